//! systemctl's own words in a paste, given the unit they are about.
//!
//! `systemctl status docker` names the unit once, in its first line (`● docker.service - Docker
//! Application Container Engine`); the lines that say what is wrong (`Loaded: … disabled; …`,
//! `Active: activating (start) since …`, `Active: failed (Result: exit-code) …`) do not.
//! `systemctl is-enabled docker` prints a bare `disabled`. Matched alone, those lines could be
//! about any unit; so each is also matched with its unit in front: `docker.service: Active:
//! activating (start) since …`, `docker.service is-enabled: disabled`. The checks' patterns then
//! name the unit.

use std::fmt::Write as _;
use std::sync::OnceLock;

use regex::Regex;

/// The states `systemctl is-enabled` prints (systemctl(1), "is-enabled").
const ENABLEMENT: &[&str] = &[
    "enabled",
    "enabled-runtime",
    "linked",
    "linked-runtime",
    "alias",
    "masked",
    "masked-runtime",
    "static",
    "indirect",
    "disabled",
    "generated",
    "transient",
    "bad",
    "not-found",
];

/// The states `systemctl is-active` prints.
const ACTIVITY: &[&str] = &[
    "active",
    "reloading",
    "inactive",
    "failed",
    "activating",
    "deactivating",
    "maintenance",
    "refreshing",
];

/// The first line of a unit in `systemctl status`: a state bullet (●, ○, ×, ↻, or `*` without
/// UTF-8), the unit, ` - ` and its description.
fn status_header() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(
        &RE,
        r"^\s*(?:[●○×↻✗*]\s*)?([A-Za-z0-9:_.@\\-]+\.(?:service|socket|target|mount|timer|path|slice|scope))\s+-\s",
    )
}

/// A `systemctl is-enabled|is-active UNIT…` command line, after any shell prompt; its options
/// (`--user`) in the first group.
fn query() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(
        &RE,
        r"(?:^|[\s$#>])systemctl\s+((?:--[a-z-]+\s+)*)(is-enabled|is-active)\s+((?:[A-Za-z0-9:_.@\\-]+\s*)+)$",
    )
}

/// Any other `systemctl` command line; its options in the first group.
fn command() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(&RE, r"(?:^|[\s$#>])systemctl\s+((?:--?[a-z-]+\s+)*)[a-z-]+")
}

/// The `Loaded:` line of a status block: the unit file's path, whose name is the unit's (a paste
/// may start there, without the block's first line).
fn loaded() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    super::compiled(
        &RE,
        r"^\s*Loaded:\s+\S+\s+\((/[^;)]*/)([A-Za-z0-9:_.@\\-]+\.(?:service|socket|timer))[;)]",
    )
}

/// How a unit of the user's own systemd (`systemctl --user`, a unit file under
/// `~/.config/systemd/user` or `/usr/lib/systemd/user`, a rootless daemon's description) is
/// named in front of its lines, so the system unit's patterns do not match it.
fn user_unit(unit: &str) -> String {
    format!("{unit} (user manager)")
}

/// A unit as systemctl reads a name given without a suffix: `docker` is `docker.service`.
fn unit_name(name: &str) -> String {
    if name.contains('.') {
        name.to_owned()
    } else {
        format!("{name}.service")
    }
}

/// One line per line of `text`, numbered alike: the line with its unit in front when it is
/// systemctl's output about that unit, else empty.
pub(super) fn with_units(text: &str) -> String {
    // Each pattern below needs one of these words; without them no line is systemctl's, and
    // the patterns are not compiled (four of them cost more than a paste's other readings).
    const WORDS: &[&str] = &[
        "systemctl",
        "Loaded:",
        ".service",
        ".socket",
        ".target",
        ".mount",
        ".timer",
        ".path",
        ".slice",
        ".scope",
    ];
    if !WORDS.iter().any(|w| text.contains(w)) {
        return "\n".repeat(text.lines().count());
    }
    let (Some(header), Some(query), Some(command), Some(loaded)) =
        (status_header(), query(), command(), loaded())
    else {
        return String::new();
    };
    let mut out = String::with_capacity(text.len() / 4);
    // The unit whose `systemctl status` block the lines belong to.
    let mut status_of: Option<String> = None;
    // The last systemctl command asked the user's manager (`--user`).
    let mut user = false;
    // The units a `systemctl is-enabled|is-active` asked about, not yet answered, and which.
    let mut asked: Vec<String> = Vec::new();
    let mut asked_kind = "";
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(c) = header.captures(line) {
            let unit = c.get(1).map_or("", |m| m.as_str());
            status_of = Some(if user || line.contains("(Rootless)") {
                user_unit(unit)
            } else {
                unit.to_owned()
            });
            asked.clear();
        } else if let Some(c) = query.captures(trimmed) {
            status_of = None;
            user = c.get(1).is_some_and(|m| m.as_str().contains("--user"));
            asked_kind = c.get(2).map_or("", |m| m.as_str());
            asked = c
                .get(3)
                .map(|m| {
                    m.as_str()
                        .split_whitespace()
                        .rev()
                        .map(|n| {
                            let unit = unit_name(n);
                            if user { user_unit(&unit) } else { unit }
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push('\n');
            continue;
        } else if let Some(c) = command.captures(trimmed) {
            status_of = None;
            asked.clear();
            user = c.get(1).is_some_and(|m| m.as_str().contains("--user"));
            out.push('\n');
            continue;
        } else if let Some(c) = loaded.captures(line) {
            let dir = c.get(1).map_or("", |m| m.as_str());
            let unit = c.get(2).map_or("", |m| m.as_str());
            let of_user = user || dir.contains("/systemd/user/");
            let named = if of_user {
                user_unit(unit)
            } else {
                unit.to_owned()
            };
            // The path decides whose unit it is, also inside a block whose first line said less.
            status_of = Some(named);
        } else if trimmed.is_empty() {
            status_of = None;
        }
        let states = if asked_kind == "is-enabled" {
            ENABLEMENT
        } else {
            ACTIVITY
        };
        if !asked.is_empty() && states.contains(&trimmed) {
            if let Some(unit) = asked.pop() {
                let _ = write!(out, "{unit} {asked_kind}: {trimmed}");
            }
        } else {
            asked.clear();
            if let Some(unit) = &status_of {
                out.push_str(unit);
                out.push_str(": ");
                out.push_str(trimmed);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_carry_their_unit_until_the_block_ends() {
        let text = "$ systemctl status docker\n○ docker.service - Docker Application Container Engine\n     Loaded: loaded (/usr/lib/systemd/system/docker.service; disabled; preset: disabled)\n     Active: activating (start) since Mon 2026-11-30 10:00:00 UTC; 3min ago\n\nActive: failed\n";
        let out = with_units(text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), text.lines().count());
        assert_eq!(lines[0], "");
        assert_eq!(
            lines[2],
            "docker.service: Loaded: loaded (/usr/lib/systemd/system/docker.service; disabled; preset: disabled)"
        );
        assert_eq!(
            lines[3],
            "docker.service: Active: activating (start) since Mon 2026-11-30 10:00:00 UTC; 3min ago"
        );
        assert_eq!(lines[5], "", "after a blank line the block has ended");
    }

    #[test]
    fn is_enabled_and_is_active_answers_are_given_their_units_in_order() {
        let text = "[me@arch ~]$ systemctl is-enabled docker docker.socket\ndisabled\nenabled\n# systemctl is-active docker\nfailed\ndisabled\n";
        let out = with_units(text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "docker.service is-enabled: disabled");
        assert_eq!(lines[2], "docker.socket is-enabled: enabled");
        assert_eq!(lines[4], "docker.service is-active: failed");
        assert_eq!(lines[5], "", "no question is left to answer");
    }

    #[test]
    fn the_users_own_units_are_named_apart() {
        let text = "$ systemctl --user status docker.service\n× docker.service - Docker Application Container Engine (Rootless)\n   Loaded: loaded (/home/a/.config/systemd/user/docker.service; enabled; vendor preset: enabled)\n   Active: failed (Result: exit-code)\n\n   Loaded: loaded (/home/b/.config/systemd/user/docker.service; enabled; vendor preset: enabled)\n   Active: failed (Result: exit-code)\n$ systemctl --user is-enabled docker\ndisabled\n";
        let out = with_units(text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[3],
            "docker.service (user manager): Active: failed (Result: exit-code)"
        );
        assert_eq!(
            lines[6], "docker.service (user manager): Active: failed (Result: exit-code)",
            "a paste that starts at Loaded: the unit file's path decides"
        );
        assert_eq!(
            lines[8],
            "docker.service (user manager) is-enabled: disabled"
        );
        assert!(!out.contains("docker.service: "), "{out}");
    }

    #[test]
    fn other_text_gets_no_unit() {
        let text = "disabled\nActive: inactive (dead)\nthe docker.service - unit\n";
        let out = with_units(text);
        assert!(out.lines().take(2).all(str::is_empty), "{out:?}");
    }
}
