//! Host resources and plumbing: memory and CPUs (`/proc/meminfo`, `/proc/cpuinfo`), free space
//! on Docker's data root, and the docker0 bridge (`/sys/class/net`).

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Sysroot, Value, spec};
use crate::error::ProbeError;

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "host.mem_total_bytes",
        Int,
        "MemTotal from /proc/meminfo, bytes",
    ),
    spec(
        "host.mem_available_bytes",
        Int,
        "MemAvailable from /proc/meminfo, bytes",
    ),
    spec(
        "host.mem_available",
        Text,
        "MemAvailable for people (`2.7 GiB`)",
    ),
    spec("host.cpu_count", Int, "logical CPUs in /proc/cpuinfo"),
    spec(
        "host.data_root",
        Text,
        "Docker's data root: the daemon's answer, else daemon.json data-root, else /var/lib/docker",
    ),
    spec(
        "host.data_root_free_bytes",
        Int,
        "free bytes on the filesystem holding the data root (its nearest existing ancestor)",
    ),
    spec(
        "host.data_root_free",
        Text,
        "the data root's free space for people (`8.5 GiB`)",
    ),
    spec(
        "host.docker0_exists",
        Bool,
        "the docker0 bridge exists (/sys/class/net/docker0)",
    ),
    spec(
        "host.docker0_operstate",
        Text,
        "docker0's operstate (up, down; down with no containers is normal); null without docker0",
    ),
    spec(
        "host.docker_osx_stopped_count",
        Int,
        "how many stopped docker-osx containers there are (the length of docker.osx_stopped_containers)",
    ),
];

const MEMINFO: &str = "/proc/meminfo";
const CPUINFO: &str = "/proc/cpuinfo";
const DAEMON_JSON: &str = "/etc/docker/daemon.json";
const DEFAULT_DATA_ROOT: &str = "/var/lib/docker";

pub fn gather(ctx: &Context, facts: &mut Facts) {
    match ctx.sysroot.read_string(MEMINFO) {
        Ok(text) => {
            let field = |name: &str| match meminfo_field(&text, name) {
                Some(Ok(bytes)) => Fact::known(bytes),
                Some(Err(e)) => Fact::unknown(e.to_string()),
                None => Fact::unknown(format!("{MEMINFO}: no {name} line")),
            };
            facts.set("host.mem_total_bytes", field("MemTotal"));
            let available = field("MemAvailable");
            facts.set("host.mem_available", human_fact(&available));
            facts.set("host.mem_available_bytes", available);
        }
        Err(e) => {
            let unknown = Fact::unknown(e.to_string());
            for key in [
                "host.mem_total_bytes",
                "host.mem_available_bytes",
                "host.mem_available",
            ] {
                facts.set(key, unknown.clone());
            }
        }
    }

    facts.set(
        "host.cpu_count",
        match ctx.sysroot.read_string(CPUINFO) {
            Ok(text) => match cpu_count(&text) {
                0 => Fact::unknown(format!("{CPUINFO}: no processor lines")),
                n => Fact::known(n),
            },
            Err(e) => Fact::unknown(e.to_string()),
        },
    );

    let data_root = configured_data_root(ctx);
    set_data_root(facts, &ctx.sysroot, data_root);

    match ctx.sysroot.metadata_optional("/sys/class/net/docker0") {
        Ok(Some(_)) => {
            facts.set("host.docker0_exists", Fact::known(true));
            facts.set(
                "host.docker0_operstate",
                match ctx.sysroot.read_string("/sys/class/net/docker0/operstate") {
                    Ok(s) => Fact::known(s.trim().to_owned()),
                    Err(e) => Fact::unknown(e.to_string()),
                },
            );
        }
        Ok(None) => {
            facts.set("host.docker0_exists", Fact::known(false));
            facts.set("host.docker0_operstate", Fact::known(Value::Null));
        }
        Err(e) => {
            facts.set("host.docker0_exists", Fact::unknown(e.to_string()));
            facts.set("host.docker0_operstate", Fact::unknown(e.to_string()));
        }
    }
}

/// The data root the files say: daemon.json's `data-root`, else Docker's default.
fn configured_data_root(ctx: &Context) -> Fact {
    match ctx.sysroot.read_optional(DAEMON_JSON) {
        Ok(None) => Fact::known(DEFAULT_DATA_ROOT),
        Ok(Some(text)) => match daemon_json_data_root(&text) {
            Ok(Some(root)) => Fact::known(root),
            Ok(None) => Fact::known(DEFAULT_DATA_ROOT),
            Err(e) => Fact::unknown(format!(
                "{DAEMON_JSON}: {e}, so the configured data-root cannot be read"
            )),
        },
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// `data-root` from a daemon.json text; `None` when the key is absent.
pub fn daemon_json_data_root(text: &str) -> Result<Option<String>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(object) = value.as_object() else {
        return Err("not a JSON object".into());
    };
    match object.get("data-root") {
        None => Ok(None),
        Some(serde_json::Value::String(s)) if s.starts_with('/') => Ok(Some(s.clone())),
        Some(other) => Err(format!("data-root is {other}, not an absolute path")),
    }
}

/// Sets `host.data_root` and the free space on the filesystem holding it under `root`.
fn set_data_root(facts: &mut Facts, root: &Sysroot, data_root: Fact) {
    let free = match data_root.as_text() {
        Some(path) => free_bytes(root, path),
        None => data_root.clone(),
    };
    facts.set("host.data_root_free", human_fact(&free));
    facts.set("host.data_root_free_bytes", free);
    facts.set("host.data_root", data_root);
}

/// Free bytes (available to unprivileged writers, as `df` shows) on the filesystem holding
/// `inside`, or its nearest existing ancestor: before the daemon first starts, the data root
/// does not exist yet, and it will be created on its parent's filesystem.
fn free_bytes(sysroot: &Sysroot, inside: &str) -> Fact {
    let mut probe = inside.trim_end_matches('/');
    loop {
        match sysroot.statvfs(if probe.is_empty() { "/" } else { probe }) {
            Ok(st) => return Fact::known(st.f_bavail.saturating_mul(st.f_frsize)),
            Err(ProbeError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && !probe.is_empty() =>
            {
                probe = probe.rsplit_once('/').map_or("", |(parent, _)| parent);
            }
            Err(e) => return Fact::unknown(format!("{e} (statvfs of {inside})")),
        }
    }
}

/// Combines with the daemon's facts: the daemon's own data root wins over the files, and the
/// docker-osx stopped-container list becomes a count checks can compare.
///
/// The free space of a data root learned from the daemon is measured under the root recorded
/// in `facts.host["root"]` (the sysroot the facts were gathered from).
pub fn derive(facts: &mut Facts) {
    if let Some(daemon_root) = facts.text("docker.data_root").map(str::to_owned)
        && facts.text("host.data_root") != Some(daemon_root.as_str())
    {
        match facts.host.get("root").map(Sysroot::new) {
            Some(root) => set_data_root(facts, &root, Fact::known(daemon_root)),
            None => {
                let unknown =
                    Fact::unknown("the root the facts were gathered from is not recorded");
                facts.set("host.data_root", Fact::known(daemon_root));
                facts.set("host.data_root_free_bytes", unknown.clone());
                facts.set("host.data_root_free", unknown);
            }
        }
    }
    let count = match facts.get("docker.osx_stopped_containers") {
        Fact::Known {
            value: Value::List(l),
        } => Fact::known(l.len() as u64),
        Fact::Known { value: Value::Null } => Fact::known(0u64),
        Fact::Known { value } => Fact::unknown(format!(
            "docker.osx_stopped_containers has the unexpected value `{value}`"
        )),
        Fact::Unknown { reason } => {
            Fact::unknown(format!("docker.osx_stopped_containers: {reason}"))
        }
        skipped @ Fact::Skipped { .. } => skipped,
    };
    facts.set("host.docker_osx_stopped_count", count);
}

/// A `/proc/meminfo` field in bytes (`MemTotal:       16284364 kB`). `None` when absent.
pub fn meminfo_field(text: &str, name: &str) -> Option<Result<u64, ProbeError>> {
    text.lines().enumerate().find_map(|(i, line)| {
        let (key, rest) = line.split_once(':')?;
        if key.trim() != name {
            return None;
        }
        let parse = || -> Result<u64, String> {
            let mut words = rest.split_whitespace();
            let number: u64 = words
                .next()
                .ok_or("no value")?
                .parse()
                .map_err(|e| format!("{e}"))?;
            match words.next() {
                None => Ok(number),
                Some("kB") => number.checked_mul(1024).ok_or_else(|| "too large".into()),
                Some(unit) => Err(format!("unknown unit `{unit}`")),
            }
        };
        Some(parse().map_err(|message| ProbeError::Parse {
            path: MEMINFO.to_owned(),
            line: i + 1,
            message: format!("{name}: {message}"),
        }))
    })
}

/// The number of `processor` entries in `/proc/cpuinfo` (x86 and arm: `processor\t: 3`).
pub fn cpu_count(text: &str) -> u64 {
    text.lines()
        .filter(|line| {
            line.split_once(':')
                .is_some_and(|(key, _)| key.trim() == "processor")
        })
        .count() as u64
}

fn human_fact(bytes: &Fact) -> Fact {
    match bytes {
        Fact::Known {
            value: Value::Int(n),
        } => Fact::known(human_bytes(*n)),
        other => other.clone(),
    }
}

/// Bytes in binary units with one decimal (`8.5 GiB`).
pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS.get(unit).unwrap_or(&"B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO_16G: &str = "MemTotal:       16284364 kB\nMemFree:         9871232 kB\nMemAvailable:   12467508 kB\nBuffers:          402116 kB\nHugePages_Total:       0\n";

    #[test]
    fn parses_meminfo_in_bytes() {
        assert_eq!(
            meminfo_field(MEMINFO_16G, "MemTotal").unwrap().unwrap(),
            16284364 * 1024
        );
        assert_eq!(
            meminfo_field(MEMINFO_16G, "MemAvailable").unwrap().unwrap(),
            12467508 * 1024
        );
        assert_eq!(
            meminfo_field(MEMINFO_16G, "HugePages_Total")
                .unwrap()
                .unwrap(),
            0
        );
        assert!(meminfo_field(MEMINFO_16G, "SwapTotal").is_none());
        let err = meminfo_field("MemFree: 1 kB\nMemTotal: lots kB\n", "MemTotal")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/proc/meminfo:2: MemTotal: invalid digit found in string"
        );
    }

    #[test]
    fn counts_processors() {
        let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n\n";
        assert_eq!(cpu_count(x86), 2);
        assert_eq!(cpu_count("model name\t: processor x\n"), 0);
    }

    #[test]
    fn reads_data_root_from_daemon_json() {
        assert_eq!(
            daemon_json_data_root(r#"{"data-root": "/srv/docker"}"#),
            Ok(Some("/srv/docker".into()))
        );
        assert_eq!(
            daemon_json_data_root(r#"{"log-driver": "journald"}"#),
            Ok(None)
        );
        assert!(daemon_json_data_root(r#"{"data-root": 3}"#).is_err());
        assert!(daemon_json_data_root("{\"a\": 1,\n}").is_err());
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(human_bytes(12467508 * 1024), "11.9 GiB");
    }
}
