//! Rootless Docker: what dockerd-rootless.sh and rootlesskit need from the machine, read from
//! files through the sysroot and from the environment.
//!
//! Sources: `/etc/subuid` and `/etc/subgid` (subuid(5)), the mode bits and the
//! `security.capability` xattr of `/usr/bin/newuidmap` and `/usr/bin/newgidmap`, the user
//! namespace sysctls under `/proc/sys`, the rootless extras on the `PATH` directories,
//! `/var/lib/systemd/linger/<user>`, the controllers cgroup v2 delegates to `user@<uid>.service`,
//! `net.ipv4.ip_unprivileged_port_start`, and `XDG_RUNTIME_DIR` / `XDG_SESSION_ID` with logind's
//! `/run/systemd/sessions/<id>` for the kind of session. It reads the judged user from the facts
//! `user.uid` and `user.name`, so it runs after the user module.
//!
//! How the session is told apart: pam_systemd sets `XDG_SESSION_ID` and `XDG_RUNTIME_DIR` in a
//! login (console, display manager, ssh with `UsePAM yes`), and logind keeps a file per session
//! under `/run/systemd/sessions/` whose `UID=` names its owner. `su` keeps the first user's two
//! variables (so the session file names another uid), `su -`, `sudo -i` and ssh without
//! pam_systemd have neither.

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::{Context, Fact, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "rootless.subuid_count",
        Int,
        "subordinate uids in the judged user's largest /etc/subuid range (by name or uid); 0 when it has none",
    ),
    spec(
        "rootless.subgid_count",
        Int,
        "subordinate gids in the judged user's largest /etc/subgid range (by name or uid); 0 when it has none",
    ),
    spec(
        "rootless.subid_overlaps",
        List,
        "the judged user's /etc/subuid and /etc/subgid ranges that overlap another user's range",
    ),
    spec(
        "rootless.subid_problems",
        List,
        "what is wrong with the judged user's ranges: none or fewer than 65536 ids in /etc/subuid or /etc/subgid, and ranges that overlap another user's (derived)",
    ),
    spec(
        "rootless.subid_severity",
        Text,
        "error when a range is missing or shorter than 65536 ids, warning when the ranges are long enough but overlap another user's; null when neither (derived)",
    ),
    spec(
        "rootless.newidmap_usable",
        Bool,
        "/usr/bin/newuidmap and /usr/bin/newgidmap exist and are setuid root or carry cap_setuid / cap_setgid",
    ),
    spec(
        "rootless.newidmap_state",
        Text,
        "what makes newuidmap and newgidmap usable or not (mode bits, security.capability xattr)",
    ),
    spec(
        "rootless.unprivileged_userns_clone",
        Int,
        "kernel.unprivileged_userns_clone (linux-hardened, Debian); null when the kernel has no such sysctl",
    ),
    spec(
        "rootless.max_user_namespaces",
        Int,
        "user.max_user_namespaces",
    ),
    spec(
        "rootless.apparmor_restrict_userns",
        Int,
        "kernel.apparmor_restrict_unprivileged_userns; null when the kernel has no such sysctl",
    ),
    spec(
        "rootless.userns_blockers",
        List,
        "the sysctls that keep an unprivileged user from creating a user namespace (derived)",
    ),
    spec(
        "rootless.extras_missing",
        List,
        "rootless parts not found in /usr/local/bin, /usr/bin or /bin: dockerd-rootless.sh, rootlesskit, and slirp4netns or pasta",
    ),
    spec(
        "rootless.linger",
        Bool,
        "lingering is on for the judged user (/var/lib/systemd/linger/<user> exists)",
    ),
    spec(
        "rootless.delegated_controllers",
        List,
        "cgroup v2 controllers delegated to user@<uid>.service (its cgroup.controllers)",
    ),
    spec(
        "rootless.undelegated_controllers",
        List,
        "cpu, memory, io or pids when missing from the controllers delegated to user@<uid>.service (derived)",
    ),
    spec(
        "rootless.ip_unprivileged_port_start",
        Int,
        "net.ipv4.ip_unprivileged_port_start: the lowest port an unprivileged process may bind",
    ),
    spec(
        "rootless.ports_below_unprivileged_start",
        List,
        "the entries of docker.published_host_ports whose host port is below net.ipv4.ip_unprivileged_port_start, which a rootless daemon cannot bind (derived)",
    ),
    spec(
        "rootless.lowest_port_below_start",
        Int,
        "the lowest host port of rootless.ports_below_unprivileged_start; null when there is none (derived)",
    ),
    spec(
        "rootless.xdg_runtime_dir",
        Text,
        "XDG_RUNTIME_DIR from the environment; null when unset",
    ),
    spec(
        "rootless.xdg_runtime_dir_state",
        Text,
        "ok, unset, missing, or owned by another uid: whether XDG_RUNTIME_DIR is the judged user's own directory",
    ),
    spec(
        "rootless.session_kind",
        Text,
        "login (a logind session of the judged user), other-user (a session of another uid: su), none (no XDG_SESSION_ID: su -, sudo -i, ssh without pam_systemd) or stale",
    ),
    spec(
        "rootless.daemon_down_reason",
        Text,
        "why the rootless daemon is not running, from the user unit, XDG_RUNTIME_DIR and lingering (derived)",
    ),
    spec(
        "rootless.daemon_down_fix",
        Text,
        "the command that suits rootless.daemon_down_reason (derived)",
    ),
];

pub const SUBUID: &str = "/etc/subuid";
pub const SUBGID: &str = "/etc/subgid";
pub const NEWUIDMAP: &str = "/usr/bin/newuidmap";
pub const NEWGIDMAP: &str = "/usr/bin/newgidmap";
const USERNS_CLONE: &str = "/proc/sys/kernel/unprivileged_userns_clone";
const MAX_USER_NAMESPACES: &str = "/proc/sys/user/max_user_namespaces";
const APPARMOR_RESTRICT: &str = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
const PORT_START: &str = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
/// Where a package or `make install` puts programs (on Arch /bin is a link to /usr/bin).
const BIN_DIRS: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];
/// The controllers resource limits on containers need (Docker's rootless docs).
pub const NEEDED_CONTROLLERS: &[&str] = &["cpu", "memory", "io", "pids"];
/// The smallest range dockerd-rootless-setuptool.sh accepts (and useradd allocates).
pub const MIN_SUBIDS: u64 = 65_536;

/// One line of /etc/subuid or /etc/subgid: `owner:first:count`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubidRange {
    /// A user name or a numeric uid, as written.
    pub owner: String,
    pub first: u64,
    pub count: u64,
    pub line: usize,
}

impl SubidRange {
    fn end(&self) -> u64 {
        self.first.saturating_add(self.count)
    }
    fn overlaps(&self, other: &SubidRange) -> bool {
        self.count > 0 && other.count > 0 && self.first < other.end() && other.first < self.end()
    }
    fn describe(&self) -> String {
        format!(
            "{}-{}",
            self.first,
            self.end().saturating_sub(1).max(self.first)
        )
    }
}

/// Parses subuid(5)/subgid(5). Blank lines and `#` comments are skipped; a malformed line is
/// an error naming the file and line.
pub fn parse_subid(path: &str, text: &str) -> Result<Vec<SubidRange>, String> {
    let mut ranges = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i.saturating_add(1);
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut parts = l.split(':');
        let (Some(owner), Some(first), Some(count), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{path}:{line}: expected owner:first:count"));
        };
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("{path}:{line}: {what} `{s}` is not a number"))
        };
        ranges.push(SubidRange {
            owner: owner.trim().to_owned(),
            first: number(first, "first id")?,
            count: number(count, "count")?,
            line,
        });
    }
    Ok(ranges)
}

/// Whether a range belongs to the user, written by name or by uid.
fn owned_by(range: &SubidRange, name: &str, uid: u64) -> bool {
    range.owner == name || range.owner.parse::<u64>().is_ok_and(|u| u == uid)
}

/// The count of the user's largest range, and its ranges that overlap another owner's.
pub fn judge_subids(path: &str, ranges: &[SubidRange], name: &str, uid: u64) -> (u64, Vec<String>) {
    let (own, others): (Vec<&SubidRange>, Vec<&SubidRange>) =
        ranges.iter().partition(|r| owned_by(r, name, uid));
    let largest = own.iter().map(|r| r.count).max().unwrap_or(0);
    let overlaps = own
        .iter()
        .flat_map(|mine| {
            others.iter().filter(|o| mine.overlaps(o)).map(move |o| {
                format!(
                    "{path}:{} {} overlaps {}'s {} (line {})",
                    mine.line,
                    mine.describe(),
                    o.owner,
                    o.describe(),
                    o.line
                )
            })
        })
        .collect();
    (largest, overlaps)
}

/// `VFS_CAP_REVISION_MASK` and the revisions of `struct vfs_cap_data` (linux/capability.h).
const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_REVISION_3: u32 = 0x0300_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;

/// Whether a `security.capability` value grants `cap` as permitted and effective (`cap+ep`).
/// The value is `struct vfs_cap_data`: a little-endian `magic_etc` word (revision and the
/// effective flag), then permitted/inheritable word pairs (one pair in revision 1, two in
/// revisions 2 and 3, which adds the namespace's root uid). `None` when the value is not a
/// vfs_cap_data. Decoded here because it is five words: no crate we found reads file
/// capabilities from bytes without also reading the file itself.
pub fn file_cap_grants(value: &[u8], cap: u32) -> Option<bool> {
    let word = |i: usize| -> Option<u32> {
        let start = i.checked_mul(4)?;
        let bytes = value.get(start..start.checked_add(4)?)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    let magic = word(0)?;
    let expected_len = match magic & VFS_CAP_REVISION_MASK {
        VFS_CAP_REVISION_1 => 12,
        VFS_CAP_REVISION_2 => 20,
        VFS_CAP_REVISION_3 => 24,
        _ => return None,
    };
    if value.len() != expected_len {
        return None;
    }
    let effective = magic & VFS_CAP_FLAGS_EFFECTIVE != 0;
    // cap < 32: in the first permitted word.
    let permitted = word(1)?;
    Some(effective && cap < 32 && permitted & (1 << cap) != 0)
}

/// Why one of newuidmap/newgidmap is usable (`Ok`) or not (`Err`), from its mode and xattr.
fn judge_idmap(ctx: &Context, path: &str, cap: u32, cap_name: &str) -> Result<String, String> {
    let meta = match ctx.sysroot.metadata_optional(path) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(format!("{path} is missing")),
        Err(e) => return Err(format!("unknown:{e}")),
    };
    let mode = meta.permissions().mode();
    if mode & 0o4000 != 0 && meta.uid() == 0 {
        return Ok(format!("{path} is setuid root"));
    }
    let mut buf = vec![0u8; 64];
    let host = ctx
        .sysroot
        .host_path(path)
        .map_err(|e| format!("unknown:{e}"))?;
    let xattr = match rustix::fs::getxattr(&host, "security.capability", &mut buf) {
        Ok(n) => buf.get(..n).map(<[u8]>::to_vec),
        Err(rustix::io::Errno::NODATA) | Err(rustix::io::Errno::NOTSUP) => None,
        Err(e) => return Err(format!("unknown:{path}: reading security.capability: {e}")),
    };
    match xattr.as_deref().and_then(|v| file_cap_grants(v, cap)) {
        Some(true) => Ok(format!("{path} has {cap_name}+ep")),
        _ => Err(format!(
            "{path} (mode {:04o}) has neither the setuid bit nor {cap_name}",
            mode & 0o7777
        )),
    }
}

fn read_int(ctx: &Context, path: &str) -> Fact {
    match ctx.sysroot.read_optional(path) {
        Ok(Some(t)) => match t.trim().parse::<i64>() {
            Ok(n) => Fact::known(n),
            Err(_) => Fact::unknown(format!("{path}:1: `{}` is not a number", t.trim())),
        },
        Ok(None) => Fact::known(None::<i64>),
        Err(e) => Fact::unknown(e.to_string()),
    }
}

fn subids(ctx: &Context, path: &str, who: &Result<(String, u64), String>) -> (Fact, Fact) {
    let (name, uid) = match who {
        Ok(w) => w,
        Err(reason) => return (Fact::unknown(reason.clone()), Fact::unknown(reason.clone())),
    };
    let text = match ctx.sysroot.read_optional(path) {
        // shadow ships both files empty; a missing file holds no range either.
        Ok(t) => t.unwrap_or_default(),
        Err(e) => return (Fact::unknown(e.to_string()), Fact::unknown(e.to_string())),
    };
    match parse_subid(path, &text) {
        Ok(ranges) => {
            let (count, overlaps) = judge_subids(path, &ranges, name, *uid);
            (Fact::known(count), Fact::known(overlaps))
        }
        Err(e) => (Fact::unknown(e.clone()), Fact::unknown(e)),
    }
}

fn gather_session(ctx: &Context, facts: &mut Facts, uid: Option<u64>) {
    let runtime_dir = ctx.env.get("XDG_RUNTIME_DIR");
    facts.set("rootless.xdg_runtime_dir", Fact::known(runtime_dir));
    let dir_state = match (runtime_dir, uid) {
        (None, _) => Fact::known("unset"),
        (Some(_), None) => Fact::unknown("the judged user's uid is unknown"),
        (Some(dir), Some(uid)) => match ctx.sysroot.metadata_optional(dir) {
            Ok(None) => Fact::known("missing"),
            Ok(Some(m)) if u64::from(m.uid()) == uid => Fact::known("ok"),
            Ok(Some(m)) => Fact::known(format!("owned by uid {}", m.uid())),
            Err(e) => Fact::unknown(e.to_string()),
        },
    };
    facts.set("rootless.xdg_runtime_dir_state", dir_state);

    let kind = match (ctx.env.get("XDG_SESSION_ID"), uid) {
        (None, _) => Fact::known("none"),
        (Some(_), None) => Fact::unknown("the judged user's uid is unknown"),
        (Some(id), Some(uid)) if id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            match ctx
                .sysroot
                .read_optional(&format!("/run/systemd/sessions/{id}"))
            {
                Ok(None) => Fact::known("stale"),
                Ok(Some(text)) => {
                    let owner = text
                        .lines()
                        .find_map(|l| l.strip_prefix("UID="))
                        .and_then(|u| u.trim().parse::<u64>().ok());
                    match owner {
                        Some(o) if o == uid => Fact::known("login"),
                        Some(_) => Fact::known("other-user"),
                        None => Fact::unknown(format!("/run/systemd/sessions/{id}: no UID= line")),
                    }
                }
                Err(e) => Fact::unknown(e.to_string()),
            }
        }
        (Some(id), Some(_)) => Fact::unknown(format!("XDG_SESSION_ID `{id}` is not a session id")),
    };
    facts.set("rootless.session_kind", kind);
}

/// Reads every file fact of this module. Needs `user.uid` and `user.name` already set.
pub fn gather(ctx: &Context, facts: &mut Facts) {
    let uid = facts.int("user.uid").and_then(|u| u64::try_from(u).ok());
    let who = match (facts.text("user.name"), uid) {
        (Some(name), Some(uid)) => Ok((name.to_owned(), uid)),
        _ => Err(format!(
            "the judged user is unknown: {}",
            facts.get("user.name")
        )),
    };

    let (uid_count, uid_overlaps) = subids(ctx, SUBUID, &who);
    let (gid_count, gid_overlaps) = subids(ctx, SUBGID, &who);
    facts.set("rootless.subuid_count", uid_count);
    facts.set("rootless.subgid_count", gid_count);
    facts.set(
        "rootless.subid_overlaps",
        match (uid_overlaps.as_list(), gid_overlaps.as_list()) {
            (Some(a), Some(b)) => Fact::known([a, b].concat()),
            (None, _) => uid_overlaps,
            (_, None) => gid_overlaps,
        },
    );

    let maps = [
        judge_idmap(ctx, NEWUIDMAP, CAP_SETUID, "cap_setuid"),
        judge_idmap(ctx, NEWGIDMAP, CAP_SETGID, "cap_setgid"),
    ];
    if let Some(reason) = maps
        .iter()
        .find_map(|m| m.as_ref().err().and_then(|e| e.strip_prefix("unknown:")))
    {
        facts.set("rootless.newidmap_usable", Fact::unknown(reason));
        facts.set("rootless.newidmap_state", Fact::unknown(reason));
    } else {
        let usable = maps.iter().all(Result::is_ok);
        let state: Vec<&str> = maps
            .iter()
            .map(|m| match m {
                Ok(s) | Err(s) => s.as_str(),
            })
            .collect();
        facts.set("rootless.newidmap_usable", Fact::known(usable));
        facts.set("rootless.newidmap_state", Fact::known(state.join("; ")));
    }

    facts.set(
        "rootless.unprivileged_userns_clone",
        read_int(ctx, USERNS_CLONE),
    );
    facts.set(
        "rootless.max_user_namespaces",
        match read_int(ctx, MAX_USER_NAMESPACES) {
            Fact::Known {
                value: super::Value::Null,
            } => Fact::unknown(format!("{MAX_USER_NAMESPACES}: not found")),
            other => other,
        },
    );
    facts.set(
        "rootless.apparmor_restrict_userns",
        read_int(ctx, APPARMOR_RESTRICT),
    );

    let missing = missing_extras(ctx);
    facts.set("rootless.extras_missing", Fact::known(missing));

    facts.set(
        "rootless.linger",
        match &who {
            Ok((name, _)) => {
                match ctx
                    .sysroot
                    .metadata_optional(&format!("/var/lib/systemd/linger/{name}"))
                {
                    Ok(m) => Fact::known(m.is_some()),
                    Err(e) => Fact::unknown(e.to_string()),
                }
            }
            Err(reason) => Fact::unknown(reason.clone()),
        },
    );

    facts.set(
        "rootless.delegated_controllers",
        match uid {
            Some(uid) => {
                let path = format!(
                    "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
                );
                match ctx.sysroot.read_optional(&path) {
                    Ok(Some(t)) => Fact::known(
                        t.split_whitespace()
                            .map(str::to_owned)
                            .collect::<Vec<String>>(),
                    ),
                    Ok(None) => Fact::unknown(format!(
                        "{path} does not exist (no cgroup v2, or user@{uid}.service is not running)"
                    )),
                    Err(e) => Fact::unknown(e.to_string()),
                }
            }
            None => Fact::unknown("the judged user's uid is unknown"),
        },
    );

    facts.set("rootless.ip_unprivileged_port_start", {
        match read_int(ctx, PORT_START) {
            Fact::Known {
                value: super::Value::Null,
            } => Fact::unknown(format!("{PORT_START}: not found")),
            other => other,
        }
    });

    gather_session(ctx, facts, uid);
}

/// The extras that are missing; slirp4netns and pasta stand in for each other.
fn missing_extras(ctx: &Context) -> Vec<String> {
    let found = |name: &str| {
        BIN_DIRS.iter().any(|d| {
            ctx.sysroot
                .metadata_optional(&format!("{d}/{name}"))
                .is_ok_and(|m| m.is_some_and(|m| m.is_file()))
        })
    };
    let mut missing = Vec::new();
    for name in ["dockerd-rootless.sh", "rootlesskit"] {
        if !found(name) {
            missing.push(name.to_owned());
        }
    }
    if !found("slirp4netns") && !found("pasta") {
        missing.push("slirp4netns or pasta".to_owned());
    }
    missing
}

/// The sysctls that block unprivileged user namespaces, from the three read above.
fn userns_blockers(facts: &Facts) -> Fact {
    let keys = [
        (
            "rootless.unprivileged_userns_clone",
            "kernel.unprivileged_userns_clone",
        ),
        ("rootless.max_user_namespaces", "user.max_user_namespaces"),
        (
            "rootless.apparmor_restrict_userns",
            "kernel.apparmor_restrict_unprivileged_userns",
        ),
    ];
    let mut blockers = Vec::new();
    let mut unknown = Vec::new();
    for (key, sysctl) in keys {
        match facts.get(key) {
            Fact::Known { value } => {
                let blocks = match (key, value.clone()) {
                    ("rootless.apparmor_restrict_userns", super::Value::Int(n)) => n != 0,
                    (_, super::Value::Int(n)) => n == 0,
                    _ => false,
                };
                if blocks {
                    blockers.push(format!("{sysctl} = {value}"));
                }
            }
            other => unknown.push(format!("{sysctl}: {other}")),
        }
    }
    if blockers.is_empty() && !unknown.is_empty() {
        Fact::unknown(unknown.join("; "))
    } else {
        Fact::known(blockers)
    }
}

fn undelegated(facts: &Facts) -> Fact {
    match facts.get("rootless.delegated_controllers") {
        Fact::Known {
            value: super::Value::List(have),
        } => {
            let have: BTreeSet<&str> = have.iter().map(String::as_str).collect();
            Fact::known(
                NEEDED_CONTROLLERS
                    .iter()
                    .filter(|c| !have.contains(**c))
                    .map(|c| (*c).to_owned())
                    .collect::<Vec<String>>(),
            )
        }
        other => other,
    }
}

/// Why the rootless daemon is down, the first that holds: the session, the user bus, the user
/// unit, lingering; a pointer to the unit's log when none does. With it, the command that
/// suits that reason.
fn daemon_down(facts: &Facts) -> (String, String) {
    let text = |k: &str| facts.text(k).map(str::to_owned);
    let user = text("user.name").unwrap_or_else(|| "$USER".to_owned());
    let login = format!("sudo machinectl shell {user}@");
    match text("rootless.xdg_runtime_dir_state").as_deref() {
        Some("unset") => {
            let how = match text("rootless.session_kind").as_deref() {
                Some("other-user") => "this shell runs in another user's login session (su)",
                _ => {
                    "this shell is not a logind login session (su -, sudo -i, or ssh without pam_systemd)"
                }
            };
            return (format!("XDG_RUNTIME_DIR is unset: {how}"), login);
        }
        Some(state) if state != "ok" => {
            let dir = text("rootless.xdg_runtime_dir").unwrap_or_default();
            return (format!("XDG_RUNTIME_DIR ({dir}) is {state}"), login);
        }
        _ => {}
    }
    if facts.bool("systemd.user_bus") == Some(false) {
        return (
            format!(
                "the user's systemd does not answer ({})",
                facts.get("systemd.user_docker_service_active_state")
            ),
            login,
        );
    }
    let active = text("systemd.user_docker_service_active_state");
    let result = text("systemd.user_docker_service_result");
    let file = text("systemd.user_docker_service_unit_file_state");
    match (active.as_deref(), file.as_deref()) {
        (Some("failed"), _) => {
            return (
                format!(
                    "the user unit docker.service failed (Result={})",
                    result.as_deref().unwrap_or("unknown")
                ),
                "journalctl --user -u docker.service -e; systemctl --user restart docker.service"
                    .to_owned(),
            );
        }
        (Some(_), None) => {
            return (
                "the user unit docker.service is not installed".to_owned(),
                "dockerd-rootless-setuptool.sh install".to_owned(),
            );
        }
        (Some(a), Some(f)) if f != "enabled" && a != "active" => {
            return (
                format!(
                    "the user unit docker.service is {a} and {f}, so it does not start at login"
                ),
                "systemctl --user enable --now docker.service".to_owned(),
            );
        }
        (Some(a), Some(_)) if a != "active" => {
            return (
                format!("the user unit docker.service is {a}"),
                "systemctl --user start docker.service".to_owned(),
            );
        }
        _ => {}
    }
    if facts.bool("rootless.linger") == Some(false) {
        return (
            "lingering is off, so the daemon stopped with the last login session".to_owned(),
            format!("loginctl enable-linger {user} && systemctl --user start docker.service"),
        );
    }
    (
        "none that dockdoc reads (the session, the user unit, lingering)".to_owned(),
        "journalctl --user -u docker.service -e".to_owned(),
    )
}

/// An unknown or skipped input, carried to a derived fact with the key that blocked it.
fn blocked(key: &str, fact: Fact) -> Fact {
    match fact {
        Fact::Unknown { reason } => Fact::unknown(format!("{key}: {reason}")),
        other => other,
    }
}

/// What is wrong with the user's subordinate ids, and how bad it is: `error` for a range that
/// is missing or too short (rootlesskit refuses, or images with higher ids break), `warning` for
/// ranges that only overlap another user's (both users' containers share file owners).
fn subid_problems(facts: &Facts) -> (Fact, Fact) {
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut short = false;
    for (key, file, ids) in [
        ("rootless.subuid_count", SUBUID, "uids"),
        ("rootless.subgid_count", SUBGID, "gids"),
    ] {
        match facts.get(key) {
            Fact::Known {
                value: super::Value::Int(0),
            } => {
                short = true;
                problems.push(format!("no range in {file}"));
            }
            Fact::Known {
                value: super::Value::Int(n),
            } if u64::try_from(n).is_ok_and(|n| n < MIN_SUBIDS) => {
                short = true;
                problems.push(format!(
                    "the largest range in {file} holds {n} {ids}, fewer than {MIN_SUBIDS}"
                ));
            }
            Fact::Known { .. } => {}
            other => unknown.push(format!("{key}: {other}")),
        }
    }
    match facts.get("rootless.subid_overlaps") {
        Fact::Known {
            value: super::Value::List(overlaps),
        } => problems.extend(overlaps),
        other => unknown.push(format!("rootless.subid_overlaps: {other}")),
    }
    let severity = match (short, problems.is_empty(), unknown.is_empty()) {
        (true, _, _) => Fact::known("error"),
        (false, _, false) => Fact::unknown(unknown.join("; ")),
        (false, false, true) => Fact::known("warning"),
        (false, true, true) => Fact::known(None::<String>),
    };
    let problems = match (problems.is_empty(), unknown.is_empty()) {
        (true, false) => Fact::unknown(unknown.join("; ")),
        _ => Fact::known(problems),
    };
    (problems, severity)
}

/// The published host ports below `net.ipv4.ip_unprivileged_port_start`, and those a pasted
/// error asked for (`run.pasted_ports`, from `dockdoc explain`), and the lowest of them.
fn ports_below_start(facts: &Facts) -> (Fact, Fact) {
    const PORTS: &str = "docker.published_host_ports";
    const START: &str = "rootless.ip_unprivileged_port_start";
    const PASTED: &str = "run.pasted_ports";
    let pasted: Vec<i64> = match facts.get(PASTED) {
        Fact::Known {
            value: super::Value::List(ports),
        } => ports.iter().filter_map(|p| p.parse().ok()).collect(),
        _ => Vec::new(),
    };
    let published = match facts.get(PORTS) {
        Fact::Known {
            value: super::Value::List(published),
        } => published,
        // The daemon's own answer is missing, but the paste names the port.
        _ if !pasted.is_empty() => Vec::new(),
        other => {
            let f = blocked(PORTS, other);
            return (f.clone(), f);
        }
    };
    let Some(start) = facts.int(START) else {
        let f = blocked(START, facts.get(START));
        return (f.clone(), f);
    };
    let mut below: Vec<(i64, String)> = published
        .into_iter()
        .filter_map(|entry| {
            let port = i64::from(super::docker::ports::host_port(&entry)?);
            (port > 0 && port < start).then_some((port, entry))
        })
        .collect();
    below.extend(
        pasted
            .into_iter()
            .filter(|p| *p > 0 && *p < start)
            .map(|p| (p, format!("port {p} (the pasted error)"))),
    );
    let lowest = below.iter().map(|(p, _)| *p).min();
    (
        Fact::known(below.into_iter().map(|(_, e)| e).collect::<Vec<_>>()),
        Fact::known(lowest),
    )
}

/// Computes the derived facts of this module.
pub fn derive(facts: &mut Facts) {
    let (problems, severity) = subid_problems(facts);
    facts.set("rootless.subid_problems", problems);
    facts.set("rootless.subid_severity", severity);
    let (below, lowest) = ports_below_start(facts);
    facts.set("rootless.ports_below_unprivileged_start", below);
    facts.set("rootless.lowest_port_below_start", lowest);
    let blockers = userns_blockers(facts);
    facts.set("rootless.userns_blockers", blockers);
    let undelegated = undelegated(facts);
    facts.set("rootless.undelegated_controllers", undelegated);
    let (reason, fix) = daemon_down(facts);
    facts.set("rootless.daemon_down_reason", Fact::known(reason));
    facts.set("rootless.daemon_down_fix", Fact::known(fix));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn subid_by_name_or_uid_and_overlap() {
        let text = "alice:100000:65536\n# comment\n1001:165536:65536\nbob:150000:65536\n";
        let r = parse_subid(SUBUID, text).unwrap();
        let (count, overlaps) = judge_subids(SUBUID, &r, "alice", 1000);
        assert_eq!(count, 65536);
        assert_eq!(
            overlaps,
            vec!["/etc/subuid:1 100000-165535 overlaps bob's 150000-215535 (line 4)"]
        );
        let (count, _) = judge_subids(SUBUID, &r, "carol", 1001);
        assert_eq!(count, 65536);
        let (count, overlaps) = judge_subids(SUBUID, &r, "dave", 1002);
        assert_eq!((count, overlaps.len()), (0, 0));
    }

    #[test]
    fn subid_bad_line_names_file_and_line() {
        let e = parse_subid(SUBGID, "alice:100000:65536\nalice:x:1\n").unwrap_err();
        assert_eq!(e, "/etc/subgid:2: first id `x` is not a number");
        let e = parse_subid(SUBGID, "alice:1\n").unwrap_err();
        assert_eq!(e, "/etc/subgid:1: expected owner:first:count");
    }

    #[test]
    fn vfs_cap_data_revisions() {
        // setcap cap_setuid=ep: revision 2, effective, permitted bit 7.
        let mut v2 = Vec::new();
        for w in [0x0200_0001u32, 1 << 7, 0, 0, 0] {
            v2.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(file_cap_grants(&v2, CAP_SETUID), Some(true));
        assert_eq!(file_cap_grants(&v2, CAP_SETGID), Some(false));
        // Permitted but not effective (cap_setuid=p) does not count.
        let mut p = v2.clone();
        p[0] = 0;
        assert_eq!(file_cap_grants(&p, CAP_SETUID), Some(false));
        // Revision 3 carries the root uid.
        let mut v3 = Vec::new();
        for w in [0x0300_0001u32, 1 << 6, 0, 0, 0, 0] {
            v3.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(file_cap_grants(&v3, CAP_SETGID), Some(true));
        assert_eq!(file_cap_grants(&v3[..8], CAP_SETGID), None);
        assert_eq!(file_cap_grants(&[1, 2, 3], CAP_SETGID), None);
    }

    fn with(pairs: &[(&str, Fact)]) -> Facts {
        let mut f = Facts::default();
        for (k, v) in pairs {
            f.set(k, v.clone());
        }
        f
    }

    #[test]
    fn userns_blockers_from_sysctls() {
        let mut f = with(&[
            ("rootless.unprivileged_userns_clone", Fact::known(0i64)),
            ("rootless.max_user_namespaces", Fact::known(63_000i64)),
            (
                "rootless.apparmor_restrict_userns",
                Fact::known(None::<i64>),
            ),
        ]);
        derive(&mut f);
        assert_eq!(
            f.list("rootless.userns_blockers").unwrap(),
            ["kernel.unprivileged_userns_clone = 0"]
        );
    }

    #[test]
    fn subid_severity_error_for_a_missing_or_short_range_warning_for_an_overlap() {
        let overlap = "/etc/subuid:1 100000-165535 overlaps bob's 150000-215535 (line 2)";
        let judge = |uids: i64, gids: i64, overlaps: &[&str]| {
            let f = with(&[
                ("rootless.subuid_count", Fact::known(uids)),
                ("rootless.subgid_count", Fact::known(gids)),
                (
                    "rootless.subid_overlaps",
                    Fact::known(overlaps.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>()),
                ),
            ]);
            let (problems, severity) = subid_problems(&f);
            (problems, severity.as_text().map(str::to_owned))
        };
        let (problems, severity) = judge(0, 1000, &[overlap]);
        assert_eq!(
            problems.as_list().unwrap(),
            [
                "no range in /etc/subuid",
                "the largest range in /etc/subgid holds 1000 gids, fewer than 65536",
                overlap
            ]
        );
        assert_eq!(severity.as_deref(), Some("error"));
        let (problems, severity) = judge(65536, 65536, &[overlap]);
        assert_eq!(problems.as_list().unwrap(), [overlap]);
        assert_eq!(severity.as_deref(), Some("warning"));
        let (problems, severity) = judge(65536, 65536, &[]);
        assert!(problems.as_list().unwrap().is_empty());
        assert_eq!(severity, None);
    }

    #[test]
    fn only_published_ports_below_the_start_count() {
        let judge = |published: Fact, start: i64| {
            let f = with(&[
                ("docker.published_host_ports", published),
                ("rootless.ip_unprivileged_port_start", Fact::known(start)),
            ]);
            ports_below_start(&f)
        };
        let published = Fact::known(vec![
            "web80 80->80/tcp".to_owned(),
            "dns 127.0.0.1:53->53/udp".to_owned(),
            "web8080 8080->80/tcp".to_owned(),
        ]);
        let (below, lowest) = judge(published.clone(), 1024);
        assert_eq!(
            below.as_list().unwrap(),
            ["web80 80->80/tcp", "dns 127.0.0.1:53->53/udp"]
        );
        assert_eq!(lowest, Fact::known(53i64));
        let (below, lowest) = judge(published, 0);
        assert!(below.as_list().unwrap().is_empty());
        assert_eq!(lowest, Fact::known(None::<i64>));
        // Not asked (another kind of daemon), or the daemon did not answer: carried through.
        let (below, _) = judge(Fact::skipped("not asked"), 1024);
        assert_eq!(below, Fact::skipped("not asked"));
        let (below, _) = judge(Fact::unknown("no answer"), 1024);
        assert_eq!(
            below,
            Fact::unknown("docker.published_host_ports: no answer")
        );
    }

    #[test]
    fn down_reason_order() {
        let f = with(&[
            ("rootless.xdg_runtime_dir_state", Fact::known("unset")),
            ("rootless.session_kind", Fact::known("none")),
        ]);
        assert!(
            daemon_down(&f)
                .0
                .starts_with("XDG_RUNTIME_DIR is unset: this shell is not a logind")
        );
        let f = with(&[
            ("rootless.xdg_runtime_dir_state", Fact::known("ok")),
            ("systemd.user_bus", Fact::known(true)),
            (
                "systemd.user_docker_service_active_state",
                Fact::known("failed"),
            ),
            (
                "systemd.user_docker_service_result",
                Fact::known("exit-code"),
            ),
            (
                "systemd.user_docker_service_unit_file_state",
                Fact::known("enabled"),
            ),
        ]);
        assert_eq!(
            daemon_down(&f),
            (
                "the user unit docker.service failed (Result=exit-code)".to_owned(),
                "journalctl --user -u docker.service -e; systemctl --user restart docker.service"
                    .to_owned()
            )
        );
    }
}
