//! NVIDIA: the version of the loaded kernel module against the installed user-space driver
//! (`nvidia-utils` in pacman's database). After `pacman -Syu` upgrades the driver, the module
//! that was loaded at boot stays the old one until a reboot, and every program that talks to
//! the GPU through NVML, nvidia-container-cli among them, fails with "Driver/library version
//! mismatch": the NVIDIA form of the kernel-upgrade trap.

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "nvidia.module_version",
        Text,
        "the loaded nvidia kernel module's version (/sys/module/nvidia/version, else the Kernel Module line of /proc/driver/nvidia/version); null when the module is not loaded",
    ),
    spec(
        "nvidia.driver_mismatch",
        Bool,
        "the loaded module's version differs from the installed nvidia-utils (pkgver, without epoch and pkgrel); null when either is absent",
    ),
    spec(
        "nvidia.cdi_specs",
        List,
        "CDI specifications Docker reads: /etc/cdi/*.yaml and *.json, /var/run/cdi/*",
    ),
    spec(
        "nvidia.daemon_json_runtimes",
        List,
        "the runtimes daemon.json declares (its `runtimes` keys)",
    ),
    spec(
        "nvidia.runtime_configured",
        Bool,
        "Docker can hand a container NVIDIA GPUs by name: an nvidia runtime (daemon.json, or /info Runtimes), or a CDI spec on Docker 28.2 or later (CDI on by default)",
    ),
];

const SYS_VERSION: &str = "/sys/module/nvidia/version";
const PROC_VERSION: &str = "/proc/driver/nvidia/version";
/// Docker's CDI spec directories (`cdi.DefaultSpecDirs`), read by default from Docker 28.2
/// (`cdiEnabled` in cmd/dockerd/daemon.go at v28.2.0; before, only with features.cdi).
const CDI_DIRS: &[(&str, bool)] = &[("/etc/cdi", true), ("/var/run/cdi", false)];
const CDI_DEFAULT_FROM: (u64, u64) = (28, 2);

/// The module version in /proc/driver/nvidia/version: `NVRM version: NVIDIA UNIX x86_64 Kernel
/// Module  550.90.07  Fri May 31 09:35:42 UTC 2024`; the open modules say `Open Kernel Module for
/// x86_64  570.169  Release Build`: the first dotted number after "Kernel Module".
fn proc_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    let (_, rest) = line.split_once("Kernel Module")?;
    rest.split_whitespace()
        .find(|v| v.contains('.') && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .map(str::to_owned)
}

pub fn gather(ctx: &Context, facts: &mut Facts) {
    let version = match ctx.sysroot.read_optional(SYS_VERSION) {
        Ok(Some(text)) => Fact::known(text.trim().to_owned()),
        Ok(None) => match ctx.sysroot.read_optional(PROC_VERSION) {
            Ok(Some(text)) => match proc_version(&text) {
                Some(v) => Fact::known(v),
                None => Fact::unknown(format!("{PROC_VERSION}: no Kernel Module version in it")),
            },
            Ok(None) => Fact::known(Value::Null),
            Err(e) => Fact::unknown(e.to_string()),
        },
        Err(e) => Fact::unknown(e.to_string()),
    };
    facts.set("nvidia.module_version", version);

    let mut specs = Ok(Vec::new());
    for (dir, only_yaml_json) in CDI_DIRS {
        match (&mut specs, ctx.sysroot.read_dir_names(dir)) {
            (Ok(list), Ok(names)) => list.extend(
                names
                    .into_iter()
                    .filter(|n| !only_yaml_json || n.ends_with(".yaml") || n.ends_with(".json"))
                    .map(|n| format!("{dir}/{n}")),
            ),
            (Ok(_), Err(crate::error::ProbeError::Io { source, .. }))
                if source.kind() == std::io::ErrorKind::NotFound => {}
            (Ok(_), Err(e)) => specs = Err(e.to_string()),
            (Err(_), _) => {}
        }
    }
    facts.set(
        "nvidia.cdi_specs",
        match specs {
            Ok(list) => Fact::known(list),
            Err(e) => Fact::unknown(e),
        },
    );
    facts.set(
        "nvidia.daemon_json_runtimes",
        super::storage::daemon_json_fact(ctx, "runtimes", Vec::<String>::new(), runtimes),
    );
}

/// The keys of daemon.json's `runtimes`.
fn runtimes(text: &str) -> Result<Vec<String>, String> {
    match super::storage::daemon_json_key(text, "runtimes")?.as_ref() {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Object(map)) => Ok(map.keys().cloned().collect()),
        Some(other) => Err(format!("runtimes is {other}, not an object")),
    }
}

/// `1:28.2.0-1` → (28, 2).
fn major_minor(v: &str) -> Option<(u64, u64)> {
    let v = v.split_once(':').map_or(v, |(_, rest)| rest);
    let mut parts = v.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Whether Docker can give containers NVIDIA GPUs by name.
fn runtime_configured(facts: &Facts) -> Fact {
    let has_nvidia = |key: &str| facts.list(key).map(|l| l.iter().any(|r| r == "nvidia"));
    if has_nvidia("nvidia.daemon_json_runtimes") == Some(true)
        || has_nvidia("docker.runtimes") == Some(true)
    {
        return Fact::known(true);
    }
    let cdi_default = facts
        .text("pacman.docker_version")
        .or(facts.text("docker.server_version"))
        .and_then(major_minor)
        .map(|v| v >= CDI_DEFAULT_FROM);
    if cdi_default == Some(true)
        && facts
            .list("nvidia.cdi_specs")
            .is_some_and(|l| !l.is_empty())
    {
        return Fact::known(true);
    }
    for key in [
        "nvidia.daemon_json_runtimes",
        "nvidia.cdi_specs",
        "docker.runtimes",
    ] {
        match facts.get(key) {
            Fact::Known { .. } => {}
            other => return carried(key, other),
        }
    }
    Fact::known(false)
}

/// `1:570.169-2` → `570.169`.
fn pkgver(version: &str) -> &str {
    let v = version.split_once(':').map_or(version, |(_, rest)| rest);
    v.rsplit_once('-').map_or(v, |(upstream, _)| upstream)
}

pub fn derive(facts: &mut Facts) {
    let mismatch = match (
        facts.get("nvidia.module_version"),
        facts.get("pacman.nvidia_utils_version"),
    ) {
        (Fact::Known { value: module }, Fact::Known { value: utils }) => match (module, utils) {
            (Value::Text(m), Value::Text(u)) => Fact::known(m != pkgver(&u)),
            _ => Fact::known(Value::Null),
        },
        (Fact::Known { .. }, other) => carried("pacman.nvidia_utils_version", other),
        (other, _) => carried("nvidia.module_version", other),
    };
    facts.set("nvidia.driver_mismatch", mismatch);
    let configured = runtime_configured(facts);
    facts.set("nvidia.runtime_configured", configured);
}

fn carried(key: &str, fact: Fact) -> Fact {
    match fact {
        Fact::Unknown { reason } => Fact::unknown(format!("{key}: {reason}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proc_file_names_the_module_version() {
        assert_eq!(
            proc_version(
                "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 09:35:42 UTC 2024\nGCC version:  gcc version 13.2.0\n"
            )
            .as_deref(),
            Some("550.90.07")
        );
        assert_eq!(
            proc_version(
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.169  Release Build\n"
            )
            .as_deref(),
            Some("570.169")
        );
    }

    fn judged(module: Fact, utils: Fact) -> Fact {
        let mut f = Facts::default();
        f.set("nvidia.module_version", module);
        f.set("pacman.nvidia_utils_version", utils);
        derive(&mut f);
        f.get("nvidia.driver_mismatch")
    }

    #[test]
    fn the_module_is_compared_with_the_package_pkgver() {
        let t = |s: &str| Fact::known(s);
        let null = || Fact::known(Value::Null);
        assert_eq!(judged(t("570.153.02"), t("570.169-1")), Fact::known(true));
        assert_eq!(judged(t("570.169"), t("570.169-2")), Fact::known(false));
        assert_eq!(judged(null(), t("570.169-1")), null());
        assert_eq!(judged(t("570.169"), null()), null());
        assert!(matches!(
            judged(t("570.169"), Fact::unknown("no db")),
            Fact::Unknown { .. }
        ));
    }
}
