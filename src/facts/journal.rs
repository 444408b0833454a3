//! The journal: what dockerd itself logged before docker.service failed, read with
//! `journalctl -u docker.service -b -o json` (systemd's own reader, so every journal file
//! format and compression is handled as on the machine). It is asked only when docker.service
//! failed, under the run's timeout; under `--root` the root's journal files are read
//! (`journalctl --root DIR`).
//!
//! A journal this user may not read is not an empty one: journalctl then shows only the user's
//! own messages and says so on stderr, and the fact is unknown with that reason (on Arch the
//! system journal is readable by root and the `systemd-journal`, `wheel` and `adm` groups).

use std::process::Stdio;

use serde_json::Value as Json;

use super::{Context, Fact, FactKind::*, FactSpec, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "journal.docker_last_error",
        Text,
        "the last error dockerd logged for this boot (journalctl -u docker.service -b): a line at priority err or worse, a level=error/fatal line, or the plain line dockerd prints as it exits; null when there is none; read only when docker.service failed",
    ),
    spec(
        "journal.firewall_after_docker",
        Text,
        "the last firewall service systemd started, restarted or reloaded after docker.service last started, this boot (firewalld, nftables, iptables, ip6tables, ufw): `nftables.service restarted at 2026-12-06T17:02:11Z`; null when none did; read only when Docker's chains are gone",
    ),
];

/// The firewall services that load a whole ruleset when started or reloaded.
pub const FIREWALL_UNITS: &[&str] = &[
    "firewalld.service",
    "nftables.service",
    "iptables.service",
    "ip6tables.service",
    "ufw.service",
];

/// Where journalctl is looked for: Arch's path, then Debian's (the same file on both with
/// the /usr merge).
const JOURNALCTL: &[&str] = &["/usr/bin/journalctl", "/bin/journalctl"];

/// How many of docker.service's last entries are looked at.
const ENTRIES: &str = "300";

/// The last error dockerd logged for the current boot, as a fact. `timeout` bounds the whole
/// read; journalctl is killed when it does not finish in time.
pub async fn docker_last_error(ctx: &Context) -> Fact {
    match journal_json(
        ctx,
        &[
            "--unit=docker.service",
            "--lines",
            ENTRIES,
            "--output-fields=MESSAGE,PRIORITY,SYSLOG_IDENTIFIER,_COMM",
        ],
    )
    .await
    {
        Ok(lines) => Fact::known(Value::from(last_error(&lines))),
        Err(unknown) => unknown,
    }
}

/// The last firewall service started, restarted or reloaded after docker.service last started
/// this boot, from systemd's job messages about those units (their `UNIT`, `JOB_TYPE` and
/// `JOB_RESULT` fields), as a fact. Bounded like [`docker_last_error`].
pub async fn firewall_after_docker(ctx: &Context) -> Fact {
    let mut args: Vec<String> = ["docker.service"]
        .iter()
        .chain(FIREWALL_UNITS)
        .map(|u| format!("--unit={u}"))
        .collect();
    args.extend(
        [
            "--lines",
            "2000",
            "--output-fields=UNIT,JOB_TYPE,JOB_RESULT,__REALTIME_TIMESTAMP",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match journal_json(ctx, &args).await {
        Ok(lines) => Fact::known(Value::from(firewall_after(&lines))),
        Err(unknown) => unknown,
    }
}

/// `firewalld.service reloaded at …` for the last firewall job after docker.service's last
/// start among journalctl's JSON lines (oldest first); `None` when there is none.
pub fn firewall_after(json_lines: &str) -> Option<String> {
    let mut last = None;
    for entry in json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
    {
        let (Some(unit), Some(job)) = (field(&entry, "UNIT"), field(&entry, "JOB_TYPE")) else {
            continue;
        };
        if field(&entry, "JOB_RESULT").as_deref() != Some("done") {
            continue;
        }
        let verb = match job.as_str() {
            "start" => "started",
            "restart" => "restarted",
            "reload" | "reload-or-start" => "reloaded",
            _ => continue,
        };
        if unit == "docker.service" {
            if verb != "reloaded" {
                last = None;
            }
        } else if FIREWALL_UNITS.contains(&unit.as_str()) {
            let at = field(&entry, "__REALTIME_TIMESTAMP")
                .and_then(|t| t.parse::<u64>().ok())
                .map(|us| {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_micros(us),
                    )
                    .to_string()
                });
            last = Some(match at {
                Some(at) => format!("{unit} {verb} at {at}"),
                None => format!("{unit} {verb}"),
            });
        }
    }
    last
}

/// journalctl's JSON lines for this boot with `args`, or the fact to give when they cannot
/// be read. The whole read is bounded by the context's timeout; journalctl is killed when it
/// does not finish in time.
async fn journal_json(ctx: &Context, args: &[&str]) -> Result<String, Fact> {
    let Some(journalctl) = JOURNALCTL.iter().find(|p| std::path::Path::new(p).exists()) else {
        return Err(Fact::unknown(
            "journalctl is not installed, so the journal cannot be read",
        ));
    };
    let mut cmd = tokio::process::Command::new(journalctl);
    if !ctx.sysroot.is_live() {
        cmd.arg("--root").arg(ctx.sysroot.root());
    }
    cmd.args(["--boot", "--output=json", "--no-pager", "--quiet"])
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| Fact::unknown(format!("cannot run {journalctl}: {e}")))?;
    let out = match tokio::time::timeout(ctx.timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(Fact::unknown(format!("{journalctl}: {e}"))),
        Err(_) => {
            return Err(Fact::unknown(format!(
                "journalctl did not finish within {}",
                humantime::format_duration(ctx.timeout)
            )));
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(reason) = unreadable(&stderr) {
        return Err(Fact::unknown(reason));
    }
    if !out.status.success() {
        let said = stderr.lines().next().unwrap_or("no message").trim();
        return Err(Fact::unknown(format!(
            "journalctl failed ({}): {said}",
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Why journalctl could not show the system's messages, from what it printed on stderr.
fn unreadable(stderr: &str) -> Option<String> {
    let hint = stderr.lines().find(|l| {
        l.contains("not seeing messages from other users and the system")
            || l.contains("insufficient permissions")
            || l.contains("No journal files were found")
            || l.contains("No journal files were opened")
    })?;
    Some(format!(
        "the system journal cannot be read by this user (journalctl: {}); on Arch, root and the systemd-journal, wheel and adm groups may read it",
        hint.trim()
    ))
}

/// The text of a journal field, which journalctl gives as a string, or as an array of bytes
/// when it is not valid UTF-8.
fn field(entry: &Json, name: &str) -> Option<String> {
    match entry.get(name)? {
        Json::String(s) => Some(s.clone()),
        Json::Array(bytes) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => None,
    }
}

/// The last error among journalctl's JSON lines (oldest first), from dockerd only: systemd's
/// own lines about the unit ("Main process exited", "Failed with result") say that it failed,
/// not why. An entry counts as an error at priority err (3) or worse, with logrus's
/// `level=error`/`level=fatal`, or when dockerd printed it without a level (its last words on
/// exit, e.g. "unable to configure the Docker daemon with file …"). The `msg="…"` of a logrus
/// line is unquoted.
pub fn last_error(json_lines: &str) -> Option<String> {
    json_lines
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|e| {
            let ident = field(e, "SYSLOG_IDENTIFIER").or_else(|| field(e, "_COMM"));
            ident.is_some_and(|i| i.starts_with("dockerd"))
        })
        .filter_map(|e| {
            let message = field(&e, "MESSAGE")?;
            let priority: u8 = field(&e, "PRIORITY")
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(6);
            let level = logrus_field(&message, "level");
            let error = priority <= 3
                || matches!(level.as_deref(), Some("error" | "fatal" | "panic"))
                || (level.is_none() && !message.trim().is_empty());
            error.then(|| match (level, logrus_field(&message, "msg")) {
                (Some(_), Some(msg)) => msg,
                _ => message.trim().to_owned(),
            })
        })
        .next()
}

/// One `key=value` or `key="quoted \"value\""` field of a logrus text line.
fn logrus_field(line: &str, key: &str) -> Option<String> {
    let mut rest = line;
    loop {
        let at = rest.find(&format!("{key}="))?;
        let before = rest.get(..at)?;
        let after = rest.get(at + key.len() + 1..)?;
        rest = after;
        if !(before.is_empty() || before.ends_with(' ')) {
            continue;
        }
        if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => return Some(value),
                    c => value.push(c),
                }
            }
            return Some(value);
        }
        return Some(after.split(' ').next().unwrap_or_default().to_owned());
    }
}

/// The reason the journal is not read when docker.service has not failed.
pub fn not_read() -> Fact {
    Fact::skipped("docker.service has not failed, so its journal is not read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_dockerds_last_error_not_systemds() {
        let lines = [
            r#"{"MESSAGE":"time=\"2026-11-30T10:00:00Z\" level=info msg=\"Starting up\"","PRIORITY":"6","SYSLOG_IDENTIFIER":"dockerd"}"#,
            r#"{"MESSAGE":"unable to configure the Docker daemon with file /etc/docker/daemon.json: invalid character '}' looking for beginning of object key string","PRIORITY":"6","SYSLOG_IDENTIFIER":"dockerd"}"#,
            r#"{"MESSAGE":"docker.service: Main process exited, code=exited, status=1/FAILURE","PRIORITY":"5","SYSLOG_IDENTIFIER":"systemd"}"#,
            r#"{"MESSAGE":"docker.service: Failed with result 'exit-code'.","PRIORITY":"4","SYSLOG_IDENTIFIER":"systemd"}"#,
        ]
        .join("\n");
        assert_eq!(
            last_error(&lines).as_deref(),
            Some(
                "unable to configure the Docker daemon with file /etc/docker/daemon.json: invalid character '}' looking for beginning of object key string"
            )
        );
    }

    #[test]
    fn unquotes_logrus_messages_and_skips_info() {
        let lines = [
            r#"{"MESSAGE":"time=\"t\" level=error msg=\"failed to start daemon: Error initializing network controller: \\\"x\\\"\"","PRIORITY":"6","SYSLOG_IDENTIFIER":"dockerd"}"#,
            r#"{"MESSAGE":"time=\"t\" level=info msg=\"stopping event stream\"","PRIORITY":"6","SYSLOG_IDENTIFIER":"dockerd"}"#,
        ]
        .join("\n");
        assert_eq!(
            last_error(&lines).as_deref(),
            Some("failed to start daemon: Error initializing network controller: \"x\"")
        );
        assert_eq!(last_error(""), None);
        assert_eq!(last_error("not json\n{\"MESSAGE\":[104,105]}"), None);
    }

    #[test]
    fn byte_array_messages_are_read() {
        let line = r#"{"MESSAGE":[102,97,105,108,101,100],"PRIORITY":"3","_COMM":"dockerd"}"#;
        assert_eq!(last_error(line).as_deref(), Some("failed"));
    }

    #[test]
    fn names_the_firewall_job_after_dockers_last_start() {
        let job = |unit: &str, kind: &str, at: u64| {
            format!(
                r#"{{"UNIT":"{unit}","JOB_TYPE":"{kind}","JOB_RESULT":"done","__REALTIME_TIMESTAMP":"{at}"}}"#
            )
        };
        let lines = [
            job("nftables.service", "start", 1_000_000),
            job("docker.service", "start", 2_000_000),
            job("firewalld.service", "reload", 1_765_040_531_000_000),
        ]
        .join("\n");
        assert_eq!(
            firewall_after(&lines).as_deref(),
            Some("firewalld.service reloaded at 2025-12-06T17:02:11Z")
        );
        let restarted = [
            lines,
            job("docker.service", "restart", 1_765_040_600_000_000),
        ]
        .join("\n");
        assert_eq!(firewall_after(&restarted), None);
        assert_eq!(firewall_after("not json"), None);
    }

    #[test]
    fn a_hidden_journal_is_unknown() {
        let hint = "Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.";
        assert!(unreadable(hint).is_some());
        assert!(unreadable("").is_none());
    }
}
