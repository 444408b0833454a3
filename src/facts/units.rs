//! Unit files on disk: docker.service's ExecStart and the load and unit-file states of
//! docker.service and docker.socket, read from the unit files, drop-ins and enablement links
//! under the root, without D-Bus. This is what a rescue shell has when it reads a mounted
//! system with `--root`: the units as systemd would load them at the next boot. Live states
//! (active, sub state, result) are not on disk; they stay as the systemd probe left them
//! (skipped, with its reason).
//!
//! [`gather`] sets the same `systemd.docker_*` keys the D-Bus probe sets, and only where that
//! probe could not read them (the system bus was not contacted, or the system's own bus is
//! down): whenever the bus was read, its values stand. It runs after the systemd facts are merged.
//!
//! What is read, as systemd.unit(5) describes it for the system manager:
//! - the unit search path, first match wins: `/etc/systemd/system.control`,
//!   `/run/systemd/system.control`, `/run/systemd/transient`, `/etc/systemd/system`,
//!   `/run/systemd/system`, `/usr/local/lib/systemd/system`, `/usr/lib/systemd/system` (and
//!   `/lib/systemd/system` where /usr is not merged). Generator output lives only in /run of a
//!   running system and is not there under `--root`.
//! - masking: a unit file that is a symlink to `/dev/null`, or empty, is masked.
//! - drop-ins: `NAME.d/*.conf` and the type's `service.d/*.conf` / `socket.d/*.conf` in every
//!   directory of the path; a file name in an earlier directory hides the same name in a later
//!   one, a drop-in linked to /dev/null is dropped, and the rest apply in file-name order
//!   after the unit file. An empty `ExecStart=` resets the list.
//! - enablement: a link named NAME in a `*.wants/` or `*.requires/` directory of
//!   `/etc/systemd/system` (enabled) or `/run/systemd/system` (enabled-runtime); without one, a
//!   unit whose `[Install]` names WantedBy=, RequiredBy= or Alias= is disabled, one with only
//!   Also= is indirect, and one without any is static.

use super::{Context, Fact, Facts, Value};
use crate::facts::docker::exec_start;

/// The system unit search path, highest priority first.
const SEARCH_PATH: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Where enablement links are looked for, and the state each gives.
const ENABLEMENT: &[(&str, &str)] = &[
    ("/etc/systemd/system", "enabled"),
    ("/run/systemd/system", "enabled-runtime"),
];

/// A unit as systemd would load it from disk.
#[derive(Clone, Debug, PartialEq)]
pub struct OnDisk {
    /// LoadState: `loaded`, `not-found`, `masked`, or `bad-setting` (a service with more
    /// than one ExecStart= that is not Type=oneshot, which systemd refuses to load).
    pub load_state: String,
    /// UnitFileState: `enabled`, `enabled-runtime`, `disabled`, `indirect`, `static`,
    /// `masked` or `masked-runtime`; `None` when there is no unit file (systemd says "").
    pub unit_file_state: Option<String>,
    /// The ExecStart= command lines in effect, each as words joined by spaces (as the D-Bus
    /// probe renders them), joined by ` ; `; `None` when there is none.
    pub exec_start: Option<String>,
}

/// An error reading the unit files, as the reason of an unknown fact.
type Reason = String;

/// What is at a path inside the root, following symlinks inside the root (as if it were `/`).
enum Entry {
    Missing,
    /// A symlink (possibly through others) to /dev/null: systemd compares the target's path,
    /// so /dev/null need not exist under the root.
    DevNull,
    /// A regular file, at this path inside the root.
    File(String),
}

fn entry(ctx: &Context, inside: &str) -> Result<Entry, Reason> {
    // Most directories of the search path do not have the unit, and most unit files are not
    // links: one lstat decides those.
    match ctx.sysroot.symlink_metadata(inside) {
        Err(crate::error::ProbeError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(Entry::Missing);
        }
        Ok(m) if m.is_file() => return Ok(Entry::File(inside.to_owned())),
        _ => {}
    }
    let resolved = ctx.sysroot.resolve(inside).map_err(|e| e.to_string())?;
    if resolved.path == "/dev/null" {
        return Ok(Entry::DevNull);
    }
    if !resolved.found {
        return Ok(Entry::Missing);
    }
    match ctx.sysroot.metadata(&resolved.path) {
        Ok(m) if m.is_file() => Ok(Entry::File(resolved.path)),
        Ok(_) => Ok(Entry::Missing),
        Err(crate::error::ProbeError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Entry::Missing)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The names in a directory inside the root; none when it does not exist.
fn names(ctx: &Context, dir: &str) -> Result<Vec<String>, Reason> {
    match ctx.sysroot.read_dir_names(dir) {
        Ok(n) => Ok(n),
        Err(crate::error::ProbeError::Io { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// One `Key=value` assignment of a section, continuation lines joined.
fn assignments<'a>(text: &'a str, section: &'a str) -> impl Iterator<Item = (String, String)> + 'a {
    let mut current = String::new();
    let mut joined: Vec<String> = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(rest) = line.strip_suffix('\\') {
            pending.push_str(rest);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        if full.starts_with('[') && full.ends_with(']') {
            current = full;
        } else if current == format!("[{section}]") && !full.is_empty() {
            joined.push(full);
        }
    }
    joined.into_iter().filter_map(|l| {
        let (k, v) = l.split_once('=')?;
        Some((k.trim().to_owned(), v.trim().to_owned()))
    })
}

/// The drop-in files of a unit, in the order systemd applies them.
fn drop_ins(ctx: &Context, name: &str) -> Result<Vec<String>, Reason> {
    let kind = name.rsplit_once('.').map_or("", |(_, k)| k);
    let mut chosen: Vec<(String, Option<String>)> = Vec::new();
    for base in SEARCH_PATH {
        for dir in [format!("{base}/{name}.d"), format!("{base}/{kind}.d")] {
            for file in names(ctx, &dir)?
                .into_iter()
                .filter(|f| f.ends_with(".conf"))
            {
                if chosen.iter().any(|(f, _)| *f == file) {
                    continue;
                }
                let path = match entry(ctx, &format!("{dir}/{file}"))? {
                    Entry::File(p) => Some(p),
                    Entry::DevNull | Entry::Missing => None,
                };
                chosen.push((file, path));
            }
        }
    }
    chosen.sort();
    Ok(chosen.into_iter().filter_map(|(_, p)| p).collect())
}

/// Renders one ExecStart= value as the D-Bus probe does: argv joined by spaces.
fn render(value: &str) -> String {
    let mut words = exec_start::words(value);
    if let Some(first) = words.first_mut() {
        *first = first
            .trim_start_matches(['-', '@', ':', '+', '!'])
            .to_owned();
    }
    words.join(" ")
}

/// Whether any `*.wants/` or `*.requires/` directory under `dir` links `name`.
fn linked(ctx: &Context, dir: &str, name: &str) -> Result<bool, Reason> {
    for sub in names(ctx, dir)? {
        if (sub.ends_with(".wants") || sub.ends_with(".requires"))
            && names(ctx, &format!("{dir}/{sub}"))?
                .iter()
                .any(|n| n == name)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads one unit from the unit files under the root.
pub fn read(ctx: &Context, name: &str) -> Result<OnDisk, Reason> {
    let mut found = None;
    for dir in SEARCH_PATH {
        match entry(ctx, &format!("{dir}/{name}"))? {
            Entry::Missing => continue,
            other => {
                found = Some((*dir, other));
                break;
            }
        }
    }
    let Some((dir, unit)) = found else {
        return Ok(OnDisk {
            load_state: "not-found".into(),
            unit_file_state: None,
            exec_start: None,
        });
    };
    let runtime = dir.starts_with("/run/");
    let masked = || OnDisk {
        load_state: "masked".into(),
        unit_file_state: Some(if runtime { "masked-runtime" } else { "masked" }.into()),
        exec_start: None,
    };
    let path = match unit {
        Entry::File(p) => p,
        Entry::DevNull | Entry::Missing => return Ok(masked()),
    };
    let text = ctx.sysroot.read_string(&path).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Ok(masked());
    }
    let mut exec: Vec<String> = Vec::new();
    let mut oneshot = false;
    let mut install: Vec<String> = Vec::new();
    let mut texts = vec![text];
    for d in drop_ins(ctx, name)? {
        texts.push(ctx.sysroot.read_string(&d).map_err(|e| e.to_string())?);
    }
    for t in &texts {
        for (key, value) in assignments(t, "Service") {
            match key.as_str() {
                "ExecStart" if value.is_empty() => exec.clear(),
                "ExecStart" => exec.push(render(&value)),
                "Type" => oneshot = value == "oneshot",
                _ => {}
            }
        }
        for (key, value) in assignments(t, "Install") {
            if !value.is_empty() {
                install.push(key);
            }
        }
    }
    let mut unit_file_state = None;
    for (base, state) in ENABLEMENT {
        if linked(ctx, base, name)? {
            unit_file_state = Some((*state).to_owned());
            break;
        }
    }
    let unit_file_state = unit_file_state.unwrap_or_else(|| {
        let has = |k: &str| install.iter().any(|i| i == k);
        if has("WantedBy") || has("RequiredBy") || has("Alias") || has("UpheldBy") {
            "disabled".into()
        } else if has("Also") {
            "indirect".into()
        } else {
            "static".into()
        }
    });
    Ok(OnDisk {
        load_state: if exec.len() > 1 && !oneshot {
            "bad-setting".into()
        } else {
            "loaded".into()
        },
        unit_file_state: Some(unit_file_state),
        exec_start: (!exec.is_empty()).then(|| exec.join(" ; ")),
    })
}

/// Whether the systemd probe could not read this key: the bus was not contacted (skipped), or
/// the system's own bus is absent (`systemd.system_bus` is false: nothing answered at the
/// default address). A bus given with `--system-bus` that does not answer leaves the key
/// unknown, as the user asked for that bus.
fn bus_skipped(facts: &Facts, key: &str) -> bool {
    matches!(facts.get(key), Fact::Skipped { .. })
        || (facts.bool("systemd.system_bus") == Some(false)
            && matches!(facts.get(key), Fact::Unknown { .. }))
}

/// Sets docker.service's and docker.socket's load state, unit-file state and docker.service's
/// ExecStart from the unit files under the root, for each key the systemd probe could not read
/// (see [`bus_skipped`]). A
/// unit that cannot be read (EACCES on a directory) makes its keys unknown with the reason.
pub fn gather(ctx: &Context, facts: &mut Facts) {
    set_from(facts, |unit| read(ctx, unit));
}

/// Makes the keys [`gather`] would set unknown for `reason` (the files could not be read in
/// time).
pub fn set_unread(facts: &mut Facts, reason: &str) {
    set_from(facts, |_| Err(reason.to_owned()));
}

fn set_from(facts: &mut Facts, read: impl Fn(&str) -> Result<OnDisk, Reason>) {
    for (unit, prefix) in [
        ("docker.service", "systemd.docker_service"),
        ("docker.socket", "systemd.docker_socket"),
    ] {
        let mut keys = vec!["load_state", "unit_file_state"];
        if unit == "docker.service" {
            keys.push("exec_start");
        }
        let keys: Vec<(&str, String)> = keys
            .into_iter()
            .map(|key| (key, format!("{prefix}_{key}")))
            .filter(|(_, full)| bus_skipped(facts, full))
            .collect();
        // The unit is read only for keys the bus did not give: after a bus that answered, not
        // at all (this runs once the daemon has answered, on the way to the report).
        if keys.is_empty() {
            continue;
        }
        let read = read(unit);
        for (key, full) in keys {
            let fact = match &read {
                Ok(d) => Fact::known(match key {
                    "load_state" => Value::from(d.load_state.clone()),
                    "unit_file_state" => Value::from(d.unit_file_state.clone()),
                    _ => Value::from(d.exec_start.clone()),
                }),
                Err(reason) => Fact::unknown(reason.clone()),
            };
            facts.set(&full, fact);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_comments_and_sections() {
        let text = "[Unit]\nExecStart=/nope\n[Service]\n# ExecStart=/commented\nExecStart=/usr/bin/dockerd \\\n  -H fd://\nType=notify\n[Install]\nWantedBy=multi-user.target\n";
        let s: Vec<_> = assignments(text, "Service").collect();
        assert_eq!(
            s,
            [
                (
                    "ExecStart".to_owned(),
                    "/usr/bin/dockerd  -H fd://".to_owned()
                ),
                ("Type".to_owned(), "notify".to_owned())
            ]
        );
        assert_eq!(
            render("-/usr/bin/dockerd   -H 'fd://'"),
            "/usr/bin/dockerd -H fd://"
        );
    }
}
