//! The user being judged: configured groups (`/etc/group`) against this session's groups
//! (`/proc/self/status`). Under sudo the judged user is `SUDO_USER`.
//!
//! The classic trap this module exists for: `usermod -aG docker alice` edits /etc/group, but
//! every process of the login that was already running keeps the groups it started with
//! (moby#17645), so the file and the session disagree until alice logs in again.

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("user.uid", Int, "the judged user's uid"),
    spec("user.name", Text, "the judged user's name (/etc/passwd)"),
    spec(
        "user.is_root",
        Bool,
        "the judged user is root (uid 0, and not run through sudo by another user)",
    ),
    spec(
        "user.sudo_user",
        Text,
        "SUDO_USER when dockdoc runs through sudo; null otherwise",
    ),
    spec(
        "user.groups_configured",
        List,
        "groups the judged user belongs to per /etc/group and /etc/passwd",
    ),
    spec(
        "user.groups_session",
        List,
        "groups the judged user's session holds now (/proc/self/status Gid and Groups; under sudo, the invoking shell's)",
    ),
    spec(
        "user.docker_group_exists",
        Bool,
        "a group named docker exists in /etc/group",
    ),
    spec(
        "user.kvm_group_exists",
        Bool,
        "a group named kvm exists in /etc/group",
    ),
    spec(
        "user.libvirt_group_exists",
        Bool,
        "a group named libvirt exists in /etc/group",
    ),
];

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SELF_STATUS: &str = "/proc/self/status";

/// How many parent processes are followed when looking for the invoking user's shell under sudo.
const MAX_ANCESTORS: usize = 64;

/// One line of /etc/passwd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// One line of /etc/group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The credentials of a process, from `/proc/<pid>/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStatus {
    /// The real uid (the first of the four `Uid:` fields).
    pub uid: u32,
    /// The real gid (the first of the four `Gid:` fields).
    pub gid: u32,
    /// The supplementary groups (`Groups:`).
    pub groups: Vec<u32>,
    pub ppid: Option<u32>,
    /// The effective uid (the second `Uid:` field); a setuid `sudo` has its invoker's real uid
    /// but 0 here, and root's groups.
    pub euid: Option<u32>,
}

/// The significant lines of a colon-separated database: blank lines, `#` comments and NIS
/// `+`/`-` compat entries are skipped.
fn records(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim_end).filter(|l| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('+') && !t.starts_with('-')
    })
}

/// Parses /etc/passwd (`name:password:uid:gid:gecos:home:shell`). Lines that do not have a
/// name and numeric uid and gid are skipped.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    records(text)
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?.trim();
            let _password = f.next()?;
            let uid = f.next()?.trim().parse().ok()?;
            let gid = f.next()?.trim().parse().ok()?;
            (!name.is_empty()).then(|| PasswdEntry {
                name: name.to_owned(),
                uid,
                gid,
            })
        })
        .collect()
}

/// The home directory /etc/passwd gives the user `name` (its sixth field).
pub fn home_in_passwd(text: &str, name: &str) -> Option<String> {
    records(text).find_map(|line| {
        let mut f = line.split(':');
        let entry = f.next()?.trim();
        let home = f.nth(4)?;
        (entry == name && home.starts_with('/')).then(|| home.trim_end_matches('/').to_owned())
    })
}

/// The judged user's home, where the shell start-up files and the password store are looked
/// for. Through sudo, the passwd entry of the invoking user (`user.name`): HOME may be root's.
/// Otherwise HOME, as the user's shell reads it, else that passwd entry.
pub fn judged_home(ctx: &Context, facts: &Facts) -> Option<String> {
    let from_passwd = || {
        let name = facts.text("user.name")?;
        let text = ctx.sysroot.read_string(PASSWD).ok()?;
        home_in_passwd(&text, name)
    };
    let from_env = || {
        ctx.env
            .get("HOME")
            .filter(|h| h.starts_with('/'))
            .map(|h| h.trim_end_matches('/').to_owned())
    };
    if facts.text("user.sudo_user").is_some() {
        from_passwd().or_else(from_env)
    } else {
        from_env().or_else(from_passwd)
    }
}

/// Parses /etc/group (`name:password:gid:member,member`). Lines without a name and a numeric
/// gid are skipped; a missing member field means no members.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    records(text)
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?.trim();
            let _password = f.next()?;
            let gid = f.next()?.trim().parse().ok()?;
            let members = f
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            (!name.is_empty()).then(|| GroupEntry {
                name: name.to_owned(),
                gid,
                members,
            })
        })
        .collect()
}

/// Parses `/proc/<pid>/status`. `Uid:` and `Gid:` are required; `Groups:` may be empty.
pub fn parse_status(text: &str) -> Result<ProcStatus, String> {
    let mut uid = None;
    let mut gid = None;
    let mut groups = Vec::new();
    let mut ppid = None;
    let mut euid = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let first = || value.split_whitespace().next().and_then(|v| v.parse().ok());
        match key {
            "Uid" => {
                uid = first();
                euid = value.split_whitespace().nth(1).and_then(|v| v.parse().ok());
            }
            "Gid" => gid = first(),
            "PPid" => ppid = first(),
            "Groups" => {
                groups = value
                    .split_whitespace()
                    .filter_map(|g| g.parse().ok())
                    .collect();
            }
            _ => {}
        }
    }
    match (uid, gid) {
        (Some(uid), Some(gid)) => Ok(ProcStatus {
            uid,
            gid,
            groups,
            ppid,
            euid,
        }),
        (None, _) => Err("no readable `Uid:` line".into()),
        (_, None) => Err("no readable `Gid:` line".into()),
    }
}

/// The name of a gid, or the number itself when /etc/group has no such group (as `id` shows it).
pub fn group_name(groups: &[GroupEntry], gid: u32) -> String {
    groups
        .iter()
        .find(|g| g.gid == gid)
        .map_or_else(|| gid.to_string(), |g| g.name.clone())
}

/// The groups a user belongs to according to the files: the primary group from passwd first,
/// then every group whose member list names the user, in file order, without repeats.
pub fn configured_groups(groups: &[GroupEntry], name: &str, primary_gid: u32) -> Vec<String> {
    let mut out = vec![group_name(groups, primary_gid)];
    for g in groups {
        if g.members.iter().any(|m| m == name) && !out.contains(&g.name) {
            out.push(g.name.clone());
        }
    }
    out
}

/// The groups a process holds: its gid, then its supplementary groups, as names.
pub fn session_groups(groups: &[GroupEntry], status: &ProcStatus) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for gid in std::iter::once(status.gid).chain(status.groups.iter().copied()) {
        let name = group_name(groups, gid);
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn read_status(ctx: &Context, path: &str) -> Result<ProcStatus, String> {
    let text = ctx.sysroot.read_string(path).map_err(|e| e.to_string())?;
    parse_status(&text).map_err(|m| format!("{path}: {m}"))
}

/// Under sudo, the credentials of the nearest ancestor process whose real and effective uid
/// are the invoking user's (not the setuid sudo itself): normally the shell sudo ran from.
fn invoking_session(
    ctx: &Context,
    me: &ProcStatus,
    uid: u32,
    name: &str,
) -> Result<ProcStatus, String> {
    invoking_process(ctx, me, uid, name, true).map(|(_, status)| status)
}

/// The sudo process itself (real uid the invoker's): its environment is the one the shell
/// exported when it ran sudo, which a shell's own `/proc/<pid>/environ` (fixed at its exec)
/// does not show.
fn sudo_pid(ctx: &Context, me: &ProcStatus, uid: u32, name: &str) -> Result<u32, String> {
    invoking_process(ctx, me, uid, name, false).map(|(pid, _)| pid)
}

fn invoking_process(
    ctx: &Context,
    me: &ProcStatus,
    uid: u32,
    name: &str,
    same_euid: bool,
) -> Result<(u32, ProcStatus), String> {
    let mut next = me.ppid;
    for _ in 0..MAX_ANCESTORS {
        let pid = match next {
            Some(pid) if pid > 0 => pid,
            _ => break,
        };
        let path = format!("/proc/{pid}/status");
        let status = read_status(ctx, &path).map_err(|e| {
            format!("dockdoc runs through sudo and no ancestor process owned by {name} could be read ({e})")
        })?;
        if status.uid == uid && (!same_euid || status.euid.is_none_or(|e| e == uid)) {
            return Ok((pid, status));
        }
        next = status.ppid;
    }
    Err(format!(
        "dockdoc runs through sudo and no ancestor process is owned by {name} (uid {uid})"
    ))
}

/// The variables taken from the invoking shell under sudo, which resets the environment:
/// they choose the Docker endpoint, the config directory and the user's session.
const INVOKER_VARS: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_AUTH_CONFIG",
    "HOME",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_SESSION_TYPE",
    "XDG_RUNTIME_DIR",
    "XAUTHORITY",
    "DBUS_SESSION_BUS_ADDRESS",
    "PATH",
    "PASSWORD_STORE_DIR",
];

/// Under sudo (uid 0 with SUDO_USER set), the environment as the invoking user's shell has
/// it: the variables of [`INVOKER_VARS`] are read from `/proc/<pid>/environ` of the sudo
/// process (the nearest ancestor whose real uid is SUDO_UID), so `sudo dockdoc` probes the daemon, context and config.json
/// the user's own `docker` would use. Anything else, or an unreadable ancestor, leaves `env`
/// as it is.
pub fn invoker_env(sysroot: &super::sysroot::Sysroot, env: super::Env) -> super::Env {
    let ctx = Context::new(
        sysroot.clone(),
        super::Endpoints::default(),
        env,
        std::time::Duration::from_secs(1),
    );
    let env = ctx.env.clone();
    let (Some(name), Some(uid)) = (
        env.get("SUDO_USER").filter(|u| *u != "root"),
        env_number(&ctx, "SUDO_UID"),
    ) else {
        return env;
    };
    let Ok(me) = read_status(&ctx, SELF_STATUS) else {
        return env;
    };
    if me.uid != 0 {
        return env;
    }
    let Ok(pid) = sudo_pid(&ctx, &me, uid, name) else {
        return env;
    };
    let Ok(bytes) = sysroot.read_bytes(&format!("/proc/{pid}/environ")) else {
        return env;
    };
    let mut out = env.clone();
    for name in INVOKER_VARS {
        out.vars.remove(*name);
    }
    for pair in bytes.split(|b| *b == 0) {
        let pair = String::from_utf8_lossy(pair);
        if let Some((k, v)) = pair.split_once('=')
            && INVOKER_VARS.contains(&k)
        {
            out.vars.insert(k.to_owned(), v.to_owned());
        }
    }
    out
}

/// Who is judged, as far as the sources allow.
struct Judged {
    uid: Result<u32, String>,
    name: Result<String, String>,
    primary_gid: Result<u32, String>,
    sudo_user: Result<Option<String>, String>,
    session: Result<ProcStatus, String>,
}

fn env_number(ctx: &Context, var: &str) -> Option<u32> {
    ctx.env.get(var).and_then(|v| v.trim().parse().ok())
}

fn judge(
    ctx: &Context,
    status: &Result<ProcStatus, String>,
    passwd: &Result<Vec<PasswdEntry>, String>,
) -> Judged {
    let sudo_env = ctx.env.get("SUDO_USER").filter(|u| *u != "root");
    let me = match status {
        Ok(s) => s,
        Err(e) => {
            return Judged {
                uid: Err(e.clone()),
                name: Err(e.clone()),
                primary_gid: Err(e.clone()),
                sudo_user: match sudo_env {
                    None => Ok(None),
                    Some(_) => Err(e.clone()),
                },
                session: Err(e.clone()),
            };
        }
    };
    match sudo_env {
        Some(sudo_user) if me.uid == 0 => {
            let entry = passwd
                .as_ref()
                .ok()
                .and_then(|p| p.iter().find(|e| e.name == sudo_user));
            let missing = || match passwd {
                Ok(_) => format!("SUDO_USER {sudo_user} has no entry in {PASSWD}"),
                Err(e) => e.clone(),
            };
            let uid = entry
                .map(|e| e.uid)
                .or_else(|| env_number(ctx, "SUDO_UID"))
                .ok_or_else(missing);
            let primary_gid = entry
                .map(|e| e.gid)
                .or_else(|| env_number(ctx, "SUDO_GID"))
                .ok_or_else(missing);
            let session = match &uid {
                Ok(uid) => invoking_session(ctx, me, *uid, sudo_user),
                Err(e) => Err(e.clone()),
            };
            Judged {
                uid,
                name: Ok(sudo_user.to_owned()),
                primary_gid,
                sudo_user: Ok(Some(sudo_user.to_owned())),
                session,
            }
        }
        _ => {
            let entry = match passwd {
                Ok(p) => p
                    .iter()
                    .find(|e| e.uid == me.uid)
                    .ok_or_else(|| format!("{PASSWD}: no entry for uid {}", me.uid)),
                Err(e) => Err(e.clone()),
            };
            Judged {
                uid: Ok(me.uid),
                name: entry.as_ref().map(|e| e.name.clone()).map_err(Clone::clone),
                primary_gid: entry.map(|e| e.gid),
                sudo_user: Ok(None),
                session: Ok(me.clone()),
            }
        }
    }
}

pub fn gather(ctx: &Context, facts: &mut Facts) {
    let status = read_status(ctx, SELF_STATUS);
    let passwd = ctx
        .sysroot
        .read_string(PASSWD)
        .map(|t| parse_passwd(&t))
        .map_err(|e| e.to_string());
    let group = ctx
        .sysroot
        .read_string(GROUP)
        .map(|t| parse_group(&t))
        .map_err(|e| e.to_string());
    let judged = judge(ctx, &status, &passwd);

    facts.set("user.uid", judged.uid.clone().map(u64::from));
    facts.set("user.name", judged.name.clone());
    facts.set("user.is_root", judged.uid.clone().map(|u| u == 0));
    facts.set("user.sudo_user", judged.sudo_user.clone().map(Value::from));

    let configured = match (&group, &judged.name, &judged.primary_gid) {
        (Ok(g), Ok(name), Ok(gid)) => Ok(configured_groups(g, name, *gid)),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.clone()),
    };
    facts.set("user.groups_configured", configured);

    let session = match (&group, &judged.session) {
        (Ok(g), Ok(s)) => Ok(session_groups(g, s)),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    facts.set("user.groups_session", session);

    for (key, name) in [
        ("user.docker_group_exists", "docker"),
        ("user.kvm_group_exists", "kvm"),
        ("user.libvirt_group_exists", "libvirt"),
    ] {
        let exists = group
            .as_ref()
            .map(|g| g.iter().any(|e| e.name == name))
            .map_err(Clone::clone);
        facts.set(key, exists);
    }
}

/// Nothing to derive: every user fact comes straight from its sources.
pub fn derive(_facts: &mut Facts) {}

/// Whether a fact is unknown or skipped, with its reason; for modules that build on user facts.
pub fn reason_of(facts: &Facts, key: &str) -> Option<String> {
    match facts.get(key) {
        Fact::Known { .. } => None,
        Fact::Unknown { reason } | Fact::Skipped { reason } => Some(format!("{key}: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP_FILE: &str = "root:x:0:root\n\
        wheel:x:998:alice\n\
        \n\
        this line is garbage\n\
        docker:x:967:alice,bob\n\
        kvm:x:992:\n\
        broken:x:notanumber:alice\n\
        libvirt:x:968: carol , alice\n\
        alice:x:1000:\n\
        short:x:1001\n";

    #[test]
    fn group_file_skips_garbage_and_keeps_members() {
        let g = parse_group(GROUP_FILE);
        let names: Vec<_> = g.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "root", "wheel", "docker", "kvm", "libvirt", "alice", "short"
            ]
        );
        assert_eq!(g[2].members, ["alice", "bob"]);
        assert!(g[3].members.is_empty());
        assert_eq!(g[4].members, ["carol", "alice"]);
        assert!(g[6].members.is_empty());
    }

    #[test]
    fn configured_groups_start_with_the_primary_group() {
        let g = parse_group(GROUP_FILE);
        assert_eq!(
            configured_groups(&g, "alice", 1000),
            ["alice", "wheel", "docker", "libvirt"]
        );
        assert_eq!(configured_groups(&g, "bob", 1234), ["1234", "docker"]);
    }

    #[test]
    fn home_comes_from_the_sixth_field() {
        let text = "root:x:0:0::/root:/usr/bin/bash\nalice:x:1000:1000:Alice:/home/alice/:/usr/bin/bash\nnohome:x:5:5::";
        assert_eq!(
            home_in_passwd(text, "alice").as_deref(),
            Some("/home/alice")
        );
        assert_eq!(home_in_passwd(text, "root").as_deref(), Some("/root"));
        assert_eq!(home_in_passwd(text, "nohome"), None);
        assert_eq!(home_in_passwd(text, "bob"), None);
    }

    #[test]
    fn passwd_skips_garbage() {
        let p = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n\
             # a comment\n\
             +::::::\n\
             garbage\n\
             nobody:x:65534:65534:Nobody:/:/usr/bin/nologin\n\
             bad:x:x:1::/:\n\
             alice:x:1000:1000::/home/alice:/bin/bash",
        );
        assert_eq!(
            p,
            [
                PasswdEntry {
                    name: "root".into(),
                    uid: 0,
                    gid: 0
                },
                PasswdEntry {
                    name: "nobody".into(),
                    uid: 65534,
                    gid: 65534
                },
                PasswdEntry {
                    name: "alice".into(),
                    uid: 1000,
                    gid: 1000
                },
            ]
        );
    }

    #[test]
    fn status_reads_real_ids_and_groups() {
        let s = parse_status(
            "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\n\
             Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t256\nGroups:\t998 967 1000 \n",
        )
        .unwrap();
        assert_eq!(
            s,
            ProcStatus {
                uid: 1000,
                gid: 1000,
                groups: vec![998, 967, 1000],
                ppid: Some(4200),
                euid: Some(0),
            }
        );
        let root = parse_status("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t \n").unwrap();
        assert!(root.groups.is_empty());
        assert_eq!(root.ppid, None);
        assert!(parse_status("Name:\tx\nGid:\t0\t0\t0\t0\n").is_err());
        assert!(parse_status("Uid:\t0\t0\t0\t0\n").is_err());
    }

    #[test]
    fn session_groups_show_unmapped_gids_as_numbers() {
        let g = parse_group(GROUP_FILE);
        let s = ProcStatus {
            uid: 1000,
            gid: 1000,
            groups: vec![998, 4321, 1000],
            ppid: None,
            euid: None,
        };
        assert_eq!(session_groups(&g, &s), ["alice", "wheel", "4321"]);
    }
}
