//! Storage: the filesystem under Docker's data root, the storage driver daemon.json asks for, and
//! whether the installed engine runs that driver there, as moby's graphdriver code decides it
//! (`checks/data/storage-backing-fs.toml`, read at the tags it names).
//!
//! [`gather`] reads the mount table (`/proc/self/mountinfo`, else `/proc/mounts`) and
//! daemon.json's `storage-driver`; [`derive`] judges them once the data root is final (the
//! daemon's own answer, when it gave one, replaces the configured one in `host::derive`).

use serde::Deserialize;

use super::docker::blocked;
use super::kernel::unmangle;
use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "storage.mounts",
        List,
        "the mount table as MOUNTPOINT FSTYPE, from /proc/self/mountinfo (else /proc/mounts)",
    ),
    spec(
        "storage.configured_driver",
        Text,
        "daemon.json's storage-driver; null when it sets none",
    ),
    spec(
        "storage.backing_fs",
        Text,
        "the filesystem type under the data root (host.data_root): that of the longest mount point containing it",
    ),
    spec(
        "storage.backing_mount",
        Text,
        "the mount point the data root lies on",
    ),
    spec(
        "storage.driver",
        Text,
        "the storage driver judged: storage.configured_driver, else overlay2 (dockerd's first choice)",
    ),
    spec(
        "storage.driver_unsupported",
        Text,
        "why the installed engine cannot run storage.driver on storage.backing_fs (how moby decides, at which tag, and what dockerd says); null when it can, or when no driver is configured and dockerd's next choice (btrfs, zfs) suits",
    ),
    spec(
        "storage.suitable_driver",
        Text,
        "the driver that suits storage.backing_fs; null when overlay2 does",
    ),
];

const MOUNTINFO: &str = "/proc/self/mountinfo";
const MOUNTS: &str = "/proc/mounts";
const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// Where the data table lives in the source tree (named in error messages).
pub const FILE: &str = "checks/data/storage-backing-fs.toml";
const TEXT: &str = include_str!("../../checks/data/storage-backing-fs.toml");

/// One refusal of the data table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    pub driver: String,
    #[serde(default)]
    pub backing_fs: Vec<String>,
    pub only_on: Option<String>,
    pub docker_from: Option<String>,
    pub docker_before: Option<String>,
    pub how: String,
    pub message: String,
    pub threads: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    schema: u32,
    #[serde(rename = "refusal")]
    refusals: Vec<Refusal>,
    suits: std::collections::BTreeMap<String, String>,
}

/// The data table, parsed once a run: first by [`gather`], on the file-reading thread while
/// the daemon is asked, so that [`derive`], once it has answered, finds it parsed.
fn table() -> Result<&'static Table, &'static str> {
    static TABLE: std::sync::OnceLock<Result<Table, String>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(parse_table)
        .as_ref()
        .map_err(String::as_str)
}

/// The data table, parsed. The error names the file.
fn parse_table() -> Result<Table, String> {
    let t: Table = toml::from_str(TEXT).map_err(|e| format!("{FILE}: {e}"))?;
    if t.schema != 1 {
        return Err(format!("{FILE}: schema {} is not 1", t.schema));
    }
    for (i, r) in t.refusals.iter().enumerate() {
        if r.backing_fs.is_empty() == r.only_on.is_none() {
            return Err(format!(
                "{FILE}: refusal {} ({}): give backing_fs or only_on, not both or neither",
                i + 1,
                r.driver
            ));
        }
    }
    Ok(t)
}

/// `MOUNTPOINT FSTYPE` for each line of mountinfo(5): the mount point is field 5, the type
/// follows the `-` separator.
fn parse_mountinfo(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let point = fields.get(4)?;
            let dash = fields.iter().position(|f| *f == "-")?;
            let fstype = fields.get(dash + 1)?;
            Some((unmangle(point), (*fstype).to_owned()))
        })
        .collect()
}

/// The same from /proc/mounts (fstab(5) fields: device, mount point, type, …).
fn parse_mounts(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_ascii_whitespace();
            let point = fields.nth(1)?;
            let fstype = fields.next()?;
            Some((unmangle(point), fstype.to_owned()))
        })
        .collect()
}

pub fn gather(ctx: &Context, facts: &mut Facts) {
    // Its errors are reported by derive.
    let _ = table();
    let mounts = match ctx.sysroot.read_optional(MOUNTINFO) {
        Ok(Some(text)) => Ok(parse_mountinfo(&text)),
        Ok(None) => match ctx.sysroot.read_optional(MOUNTS) {
            Ok(Some(text)) => Ok(parse_mounts(&text)),
            Ok(None) => Err(format!("neither {MOUNTINFO} nor {MOUNTS} exists")),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    facts.set(
        "storage.mounts",
        match mounts {
            Ok(list) if list.is_empty() => Fact::unknown("the mount table lists no mount"),
            Ok(list) => Fact::known(
                list.into_iter()
                    .map(|(point, fstype)| format!("{point} {fstype}"))
                    .collect::<Vec<_>>(),
            ),
            Err(e) => Fact::unknown(e),
        },
    );
    facts.set(
        "storage.configured_driver",
        daemon_json_fact(ctx, "storage-driver", Value::Null, configured_driver),
    );
}

/// A fact read from one key of /etc/docker/daemon.json: `absent` when there is no file, the
/// parsed value otherwise, unknown (naming the file and the key) when it does not parse.
pub(crate) fn daemon_json_fact<T: Into<Value>>(
    ctx: &Context,
    key: &str,
    absent: impl Into<Value>,
    parse: fn(&str) -> Result<T, String>,
) -> Fact {
    match ctx.sysroot.read_optional(DAEMON_JSON) {
        Ok(None) => Fact::known(absent),
        Ok(Some(text)) => match parse(&text) {
            Ok(v) => Fact::known(v),
            Err(e) => Fact::unknown(format!("{DAEMON_JSON}: {e}, so its {key} cannot be read")),
        },
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// One key of a daemon.json text; `None` when the key is absent.
pub(crate) fn daemon_json_key(text: &str, key: &str) -> Result<Option<serde_json::Value>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let serde_json::Value::Object(mut object) = value else {
        return Err("not a JSON object".into());
    };
    Ok(object.remove(key))
}

/// `storage-driver` from a daemon.json text; `None` when the key is absent.
fn configured_driver(text: &str) -> Result<Option<String>, String> {
    match daemon_json_key(text, "storage-driver")?.as_ref() {
        None => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("storage-driver is {other}, not a string")),
    }
}

/// The mount a path lies on: the longest mount point that is the path or one of its ancestors.
/// A later line for the same point (a mount over a mount) wins, as the kernel shows it.
fn mount_of<'a>(mounts: &'a [String], path: &str) -> Option<(&'a str, &'a str)> {
    let path = path.trim_end_matches('/');
    let mut best: Option<(&str, &str)> = None;
    for line in mounts {
        let Some((point, fstype)) = line.rsplit_once(' ') else {
            continue;
        };
        let p = point.trim_end_matches('/');
        let contains = p.is_empty() || path == p || path.starts_with(&format!("{p}/"));
        if contains && best.is_none_or(|(b, _)| p.len() >= b.trim_end_matches('/').len()) {
            best = Some((point, fstype));
        }
    }
    best
}

/// `1:27.3.1-1` or `27.3.1` → (27, 3).
fn major_minor(v: &str) -> Option<(u64, u64)> {
    let v = v.split_once(':').map_or(v, |(_, rest)| rest);
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor))
}

/// The family of a filesystem type for the table: `fuse.mergerfs` → `fuse`.
fn family(fstype: &str) -> &str {
    match fstype.split_once('.') {
        Some(("fuse", _)) | Some(("fuseblk", _)) => "fuse",
        _ if fstype == "fuseblk" => "fuse",
        _ => fstype,
    }
}

/// Whether a refusal covers this driver, filesystem and engine version.
fn refuses(r: &Refusal, driver: &str, fs: &str, version: (u64, u64)) -> bool {
    let in_range = |bound: &Option<String>, from: bool| match bound.as_deref().and_then(major_minor)
    {
        None => true,
        Some(b) if from => version >= b,
        Some(b) => version < b,
    };
    let fs_refused = match &r.only_on {
        Some(only) => family(fs) != only,
        None => r.backing_fs.iter().any(|f| f == family(fs)),
    };
    r.driver == driver
        && fs_refused
        && in_range(&r.docker_from, true)
        && in_range(&r.docker_before, false)
}

/// The engine's version: the installed package's, else the running daemon's.
fn engine_version(facts: &Facts) -> Result<(String, (u64, u64)), Fact> {
    for key in ["pacman.docker_version", "docker.server_version"] {
        if let Some(v) = facts.text(key)
            && let Some(mm) = major_minor(v)
        {
            return Ok((v.to_owned(), mm));
        }
    }
    Err(Fact::unknown(
        "neither pacman's database nor the daemon names the Docker version",
    ))
}

pub fn derive(facts: &mut Facts) {
    let keys = [
        "storage.backing_fs",
        "storage.backing_mount",
        "storage.driver",
        "storage.driver_unsupported",
        "storage.suitable_driver",
    ];
    let set_all = |facts: &mut Facts, f: Fact| {
        for key in keys {
            facts.set(key, f.clone());
        }
    };
    for key in [
        "host.data_root",
        "storage.mounts",
        "storage.configured_driver",
    ] {
        if let Some(f) = blocked(facts, key) {
            set_all(facts, f);
            return;
        }
    }
    let data_root = facts
        .text("host.data_root")
        .unwrap_or("/var/lib/docker")
        .to_owned();
    let mounts = facts.list("storage.mounts").unwrap_or_default().to_vec();
    let Some((point, fstype)) = mount_of(&mounts, &data_root) else {
        set_all(
            facts,
            Fact::unknown(format!("no mount in the mount table holds {data_root}")),
        );
        return;
    };
    let (point, fstype) = (point.to_owned(), fstype.to_owned());
    let configured = facts.text("storage.configured_driver").map(str::to_owned);
    let driver = configured.clone().unwrap_or_else(|| "overlay2".to_owned());
    facts.set("storage.backing_fs", Fact::known(fstype.clone()));
    facts.set("storage.backing_mount", Fact::known(point));
    facts.set("storage.driver", Fact::known(driver.clone()));

    let table = match table() {
        Ok(t) => t,
        Err(e) => {
            facts.set("storage.driver_unsupported", Fact::unknown(e));
            facts.set("storage.suitable_driver", Fact::unknown(e));
            return;
        }
    };
    let suitable = table.suits.get(family(&fstype)).cloned();
    facts.set("storage.suitable_driver", Fact::known(suitable.clone()));
    // With no storage-driver set, dockerd tries overlay2, fuse-overlayfs, btrfs, zfs, vfs in
    // turn (`priority` in daemon/graphdriver/driver_linux.go at docker-v29.0.0): on ZFS or btrfs
    // it falls to that filesystem's own driver and runs; elsewhere it ends on vfs.
    if configured.is_none() && matches!(family(&fstype), "zfs" | "btrfs") {
        facts.set("storage.driver_unsupported", Fact::known(Value::Null));
        return;
    }
    let (shown, version) = match engine_version(facts) {
        Ok(v) => v,
        Err(f) => {
            facts.set("storage.driver_unsupported", f);
            return;
        }
    };
    // From Docker 29 a daemon without storage-driver uses the containerd image store
    // (determineImageStoreChoice in daemon/image_store_choice.go at docker-v29.0.0), whose
    // snapshotters this table does not describe.
    if configured.is_none() && version >= (29, 0) {
        facts.set("storage.driver_unsupported", Fact::known(Value::Null));
        return;
    }
    let verdict = table
        .refusals
        .iter()
        .find(|r| refuses(r, &driver, &fstype, version))
        .map(|r| format!("Docker {shown} decides by {}: \"{}\"", r.how, r.message));
    facts.set("storage.driver_unsupported", Fact::known(verdict));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads() {
        let t = table().unwrap();
        assert!(t.refusals.iter().any(|r| r.driver == "overlay2"));
        assert!(t.suits.contains_key("zfs"));
        assert!(
            t.refusals
                .iter()
                .flat_map(|r| &r.threads)
                .all(|u| u.starts_with("https://"))
        );
    }

    #[test]
    fn mountinfo_and_mounts_are_read_with_their_escapes() {
        let info = "22 1 0:21 / / rw,relatime shared:1 - zfs rpool/ROOT/arch rw,xattr\n\
                    40 22 0:40 / /var/lib/docker rw,relatime shared:20 - overlay overlay rw\n\
                    41 22 0:41 / /mnt/my\\040disk rw - ext4 /dev/sdb1 rw\n";
        assert_eq!(
            parse_mountinfo(info),
            [
                ("/".to_owned(), "zfs".to_owned()),
                ("/var/lib/docker".to_owned(), "overlay".to_owned()),
                ("/mnt/my disk".to_owned(), "ext4".to_owned()),
            ]
        );
        assert_eq!(
            parse_mounts("/dev/sda2 / ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n"),
            [
                ("/".to_owned(), "ext4".to_owned()),
                ("/tmp".to_owned(), "tmpfs".to_owned())
            ]
        );
    }

    #[test]
    fn the_longest_mount_point_holds_the_path() {
        let m: Vec<String> = [
            "/ ext4",
            "/var zfs",
            "/var/lib/dock xfs",
            "/var/lib/docker btrfs",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            mount_of(&m, "/var/lib/docker"),
            Some(("/var/lib/docker", "btrfs"))
        );
        assert_eq!(mount_of(&m, "/var/lib/docker2"), Some(("/var", "zfs")));
        assert_eq!(mount_of(&m, "/srv/docker"), Some(("/", "ext4")));
    }

    fn judged(driver: Option<&str>, fs: &str, docker: &str) -> Fact {
        let mut f = Facts::default();
        f.set("host.data_root", Fact::known("/var/lib/docker"));
        f.set(
            "storage.mounts",
            Fact::known(vec!["/ ext4".to_owned(), format!("/var/lib/docker {fs}")]),
        );
        f.set("storage.configured_driver", Fact::known(driver));
        f.set("pacman.docker_version", Fact::known(docker));
        derive(&mut f);
        f.get("storage.driver_unsupported")
    }

    #[test]
    fn the_engine_version_decides_as_moby_did() {
        let refused = |f: Fact| f.as_text().map(str::to_owned);
        // 19.03's fixed list, 20.10's trial mount.
        let old = refused(judged(Some("overlay2"), "zfs", "1:19.03.15-1")).unwrap();
        assert!(old.contains("backing file system is unsupported"), "{old}");
        let new = refused(judged(Some("overlay2"), "zfs", "1:29.0.1-1")).unwrap();
        assert!(new.contains("driver not supported: overlay2"), "{new}");
        // Without a configured driver dockerd falls to zfs on ZFS, and ends on vfs on overlay.
        assert_eq!(judged(None, "zfs", "1:29.0.1-1"), Fact::known(Value::Null));
        assert!(refused(judged(None, "overlay", "1:27.3.1-1")).is_some());
        // Docker 29 without storage-driver: the containerd image store, not judged.
        assert_eq!(
            judged(None, "overlay", "1:29.0.1-1"),
            Fact::known(Value::Null)
        );
        assert!(refused(judged(None, "fuse.mergerfs", "1:27.3.1-1")).is_some());
        assert_eq!(judged(None, "ext4", "1:29.0.1-1"), Fact::known(Value::Null));
        assert_eq!(
            judged(Some("overlay2"), "btrfs", "1:29.0.1-1"),
            Fact::known(Value::Null)
        );
        // The zfs driver needs ZFS.
        assert!(refused(judged(Some("zfs"), "ext4", "1:29.0.1-1")).is_some());
        assert_eq!(
            judged(Some("zfs"), "zfs", "1:29.0.1-1"),
            Fact::known(Value::Null)
        );
    }
}
