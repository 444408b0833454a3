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
];

const SYS_VERSION: &str = "/sys/module/nvidia/version";
const PROC_VERSION: &str = "/proc/driver/nvidia/version";

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
