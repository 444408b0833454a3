//! Package versions with known breakage for Docker, from `checks/data/known-bad-versions.toml`
//! (built into the binary), matched against the installed versions with pacman's `vercmp`.
//!
//! Gathering records the installed version of every package the file names
//! (`pacman.watched_versions`, from the local database); [`derive`] then judges them, because an
//! entry may also depend on what the kernel probe reads (`when`: the cgroup layout, IPv6 switched
//! off on the kernel command line, a kernel config without ipset).
//!
//! Every entry has an `expires` date: from the day after it, the entry is dropped when the file
//! is loaded (a binary built long ago stops reporting it), and the unit test
//! `no_built_in_entry_has_expired` fails, so the stale entry is removed from the file too.

use std::cmp::Ordering;

use serde::Deserialize;
use toml::value::Datetime;

use super::vercmp::vercmp;
use crate::facts::{Fact, Facts};

/// Where the data file lives in the source tree (named in error messages).
pub const FILE: &str = "checks/data/known-bad-versions.toml";

const TEXT: &str = include_str!("../../../checks/data/known-bad-versions.toml");

/// One entry of the data file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The package name in the local database.
    pub package: String,
    /// The first bad version (inclusive), `[epoch:]pkgver[-pkgrel]`.
    pub from: String,
    /// The first good version (the range ends before it); `None` when no release fixes it.
    pub fixed: Option<String>,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// An extra condition: one of [`WHEN`].
    pub when: Option<String>,
    pub symptom: String,
    pub fix: String,
    /// The upstream thread that shows the breakage.
    pub thread: String,
    /// The last day the entry holds (a TOML date, UTC); it is dropped after it.
    pub expires: Datetime,
}

/// The conditions an entry may add with `when`:
/// - `cgroup-v1`: the machine runs, or asks its next boot for, cgroup v1;
/// - `ipv6-disabled`: the kernel command line has `ipv6.disable=1`;
/// - `ipset-missing`: the kernel config lacks an ipset option (`kernel.config_missing_ipset`).
pub const WHEN: &[&str] = &["cgroup-v1", "ipv6-disabled", "ipset-missing"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    #[serde(default, rename = "entry")]
    entries: Vec<Entry>,
}

const SEVERITIES: &[&str] = &["info", "warning", "error"];

/// The built-in data file's entries that have not expired (today, UTC). The error names the
/// file, and for a syntax error its line.
pub fn entries() -> Result<Vec<Entry>, String> {
    let today = chrono::Utc::now().date_naive();
    Ok(parse(TEXT)?
        .into_iter()
        .filter(|e| !e.expired_on(today))
        .collect())
}

/// A TOML date (no time) as a calendar date.
fn date_of(d: &Datetime) -> Option<chrono::NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => chrono::NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        ),
        _ => None,
    }
}

/// Parses a data file's text (see [`entries`]).
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("{FILE}: {e}"))?;
    if file.schema != 1 {
        return Err(format!("{FILE}: schema {} is not 1", file.schema));
    }
    for (i, e) in file.entries.iter().enumerate() {
        let n = i + 1;
        if !SEVERITIES.contains(&e.severity.as_str()) {
            return Err(format!(
                "{FILE}: entry {n} ({}): severity `{}` is not error, warning or info",
                e.package, e.severity
            ));
        }
        if let Some(w) = &e.when
            && !WHEN.contains(&w.as_str())
        {
            return Err(format!(
                "{FILE}: entry {n} ({}): `when = \"{w}\"` is not one of {}",
                e.package,
                WHEN.join(", ")
            ));
        }
        if date_of(&e.expires).is_none() {
            return Err(format!(
                "{FILE}: entry {n} ({}): expires {} is not a date (YYYY-MM-DD)",
                e.package, e.expires
            ));
        }
        if let Some(fixed) = &e.fixed
            && vercmp(fixed, &e.from) != Ordering::Greater
        {
            return Err(format!(
                "{FILE}: entry {n} ({}): fixed {fixed} is not newer than from {}",
                e.package, e.from
            ));
        }
    }
    Ok(file.entries)
}

impl Entry {
    /// Whether `today` is after the entry's last day.
    pub fn expired_on(&self, today: chrono::NaiveDate) -> bool {
        date_of(&self.expires).is_none_or(|last| today > last)
    }

    /// Whether `version` lies in `[from, fixed)`.
    pub fn covers(&self, version: &str) -> bool {
        vercmp(version, &self.from) != Ordering::Less
            && self
                .fixed
                .as_deref()
                .is_none_or(|fixed| vercmp(version, fixed) == Ordering::Less)
    }

    /// The evidence line for an installed version this entry covers.
    fn describe(&self, version: &str) -> String {
        let fixed = match &self.fixed {
            Some(f) => format!("fixed in {f}"),
            None => "no release fixes it".to_owned(),
        };
        format!(
            "{} {version}: {} ({fixed}; {})",
            self.package, self.symptom, self.thread
        )
    }
}

/// Whether the machine runs, or asks its next boot for, cgroup v1: `kernel.cgroup_version` is
/// 1, or `kernel.cmdline` carries `systemd.unified_cgroup_hierarchy=0` (or `false`, `no`).
fn cgroup_v1(facts: &Facts) -> Result<bool, String> {
    let version = facts.get("kernel.cgroup_version");
    let cmdline = facts.get("kernel.cmdline");
    let asks_v1 = cmdline.as_text().map(|c| {
        c.split_ascii_whitespace().any(|w| {
            matches!(
                w.strip_prefix("systemd.unified_cgroup_hierarchy="),
                Some("0" | "false" | "no")
            )
        })
    });
    match (version.as_int(), asks_v1) {
        (Some(1), _) | (_, Some(true)) => Ok(true),
        (Some(_), Some(false)) => Ok(false),
        (None, _) => Err(format!("kernel.cgroup_version: {version}")),
        (_, None) => Err(format!("kernel.cmdline: {cmdline}")),
    }
}

/// Whether an entry's `when` condition holds on this machine; `Err` names the fact that is not
/// known.
fn condition(when: &str, facts: &Facts) -> Result<bool, String> {
    match when {
        "cgroup-v1" => cgroup_v1(facts),
        "ipv6-disabled" => {
            let cmdline = facts.get("kernel.cmdline");
            cmdline
                .as_text()
                .map(|c| c.split_ascii_whitespace().any(|w| w == "ipv6.disable=1"))
                .ok_or_else(|| format!("kernel.cmdline: {cmdline}"))
        }
        "ipset-missing" => {
            let missing = facts.get("kernel.config_missing_ipset");
            missing
                .as_list()
                .map(|l| !l.is_empty())
                .ok_or_else(|| format!("kernel.config_missing_ipset: {missing}"))
        }
        other => Err(format!("unknown condition {other}")),
    }
}

/// Judges `pacman.watched_versions` against the data file: sets `pacman.known_bad_versions`,
/// `pacman.known_bad_fixes` and `pacman.known_bad_severity`.
pub fn derive(facts: &mut Facts) {
    let keys = [
        "pacman.known_bad_versions",
        "pacman.known_bad_fixes",
        "pacman.known_bad_severity",
    ];
    let unknown = |facts: &mut Facts, reason: String| {
        for key in keys {
            facts.set(key, Fact::unknown(reason.clone()));
        }
    };
    let watched = facts.get("pacman.watched_versions");
    let Some(watched) = watched.as_list().map(<[String]>::to_vec) else {
        unknown(facts, format!("pacman.watched_versions: {watched}"));
        return;
    };
    let entries = match entries() {
        Ok(e) => e,
        Err(e) => {
            unknown(facts, e);
            return;
        }
    };
    let mut found = Vec::new();
    let mut fixes = Vec::new();
    let mut severity: Option<&str> = None;
    for line in &watched {
        let Some((name, version)) = line.split_once(' ') else {
            continue;
        };
        for entry in entries
            .iter()
            .filter(|e| e.package == name && e.covers(version))
        {
            if let Some(when) = &entry.when {
                match condition(when, facts) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(reason) => {
                        unknown(
                            facts,
                            format!("{name} {version} is bad only when {when}, and {reason}"),
                        );
                        return;
                    }
                }
            }
            found.push(entry.describe(version));
            fixes.push(entry.fix.clone());
            let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s);
            if severity.is_none_or(|s| rank(&entry.severity) > rank(s)) {
                severity = SEVERITIES.iter().find(|s| **s == entry.severity).copied();
            }
        }
    }
    facts.set("pacman.known_bad_versions", Fact::known(found));
    facts.set("pacman.known_bad_fixes", Fact::known(fixes));
    facts.set("pacman.known_bad_severity", Fact::known(severity));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_loads() {
        let entries = entries().unwrap();
        assert!(entries.iter().any(|e| e.package == "iptables-nft"));
        assert!(entries.iter().all(|e| e.thread.starts_with("https://")));
    }

    #[test]
    fn ranges_follow_vercmp_with_epochs() {
        let iptables = entries()
            .unwrap()
            .into_iter()
            .find(|e| e.package == "iptables-nft")
            .unwrap();
        assert!(iptables.covers("1:1.8.11-1"));
        assert!(!iptables.covers("1:1.8.11-2"));
        assert!(!iptables.covers("1:1.8.10-2"));
        // Without the epoch the version is older than every epoch-1 version.
        assert!(!iptables.covers("1.8.11-1"));
        assert!(!iptables.covers("1:1.8.12-1"));
    }

    #[test]
    fn bad_files_name_the_file_and_the_problem() {
        let e = parse("schema = 1\n[[entry]]\npackage = \"x\"\nfrom = \"1\"\nseverity = \"fatal\"\nsymptom = \"s\"\nfix = \"f\"\nthread = \"t\"\nexpires = 2030-01-01\n").unwrap_err();
        assert!(
            e.contains("known-bad-versions.toml: entry 1 (x): severity `fatal`"),
            "{e}"
        );
        let e = parse("schema = 1\n[[entry]]\npackage = \"x\"\nfrom = \"2\"\nfixed = \"1\"\nseverity = \"info\"\nsymptom = \"s\"\nfix = \"f\"\nthread = \"t\"\nexpires = 2030-01-01\n").unwrap_err();
        assert!(e.contains("fixed 1 is not newer than from 2"), "{e}");
        let e = parse("schema = 1\n[[entry]]\npackage = \"x\"\nfrom = \"1\"\nseverity = \"info\"\nsymptom = \"s\"\nfix = \"f\"\nthread = \"t\"\nexpires = 2030-01-01T00:00:00Z\n").unwrap_err();
        assert!(e.contains("is not a date"), "{e}");
        let e = parse("schema = 1\n[[entry]]\npackage = \"x\"\nfrom = \"1\"\nseverity = \"info\"\nsymptom = \"s\"\nfix = \"f\"\nthread = \"t\"\n").unwrap_err();
        assert!(e.contains("missing field `expires`"), "{e}");
        let e = parse("schema = 1\n[[entry]]\npackage = \"x\"\nnonsense = 1\n").unwrap_err();
        assert!(e.contains("line 4"), "{e}");
    }

    /// Fails on the day after an entry's `expires`: the entry has outlived the date its author
    /// gave it, and the loader already drops it; remove it from the file (or, when the thread
    /// shows the breakage is still met, give it a new date and say why).
    #[test]
    fn no_built_in_entry_has_expired() {
        let today = chrono::Utc::now().date_naive();
        let expired: Vec<String> = parse(TEXT)
            .unwrap()
            .iter()
            .filter(|e| e.expired_on(today))
            .map(|e| {
                format!(
                    "{} {} (expired {}, {})",
                    e.package, e.from, e.expires, e.thread
                )
            })
            .collect();
        assert!(expired.is_empty(), "expired entries in {FILE}: {expired:?}");
    }

    #[test]
    fn an_entry_holds_through_its_last_day_and_is_dropped_after() {
        let entry = &parse("schema = 1\n[[entry]]\npackage = \"x\"\nfrom = \"1\"\nseverity = \"info\"\nsymptom = \"s\"\nfix = \"f\"\nthread = \"t\"\nexpires = 2027-03-31\n").unwrap()[0];
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        assert!(!entry.expired_on(day(3, 31)));
        assert!(entry.expired_on(day(4, 1)));
    }

    #[test]
    fn docker_29_0_to_29_2_and_28_0_0() {
        let all = entries().unwrap();
        let docker: Vec<&Entry> = all.iter().filter(|e| e.package == "docker").collect();
        let floor = docker.iter().find(|e| e.from == "1:29.0.0-1").unwrap();
        assert!(floor.covers("1:29.0.0-1"));
        assert!(floor.covers("1:29.2.1-1"));
        assert!(!floor.covers("1:29.3.0-1"));
        assert!(!floor.covers("1:28.5.2-1"));
        let v28: Vec<&&Entry> = docker.iter().filter(|e| e.from == "1:28.0.0-1").collect();
        assert_eq!(v28.len(), 2);
        for e in v28 {
            assert!(e.covers("1:28.0.0-1"));
            assert!(!e.covers("1:28.0.1-1"));
        }
    }

    fn facts(watched: &[&str], cgroup: i64, cmdline: &str) -> Facts {
        let mut f = Facts::default();
        f.set(
            "pacman.watched_versions",
            Fact::known(watched.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()),
        );
        f.set("kernel.cgroup_version", Fact::known(cgroup));
        f.set("kernel.cmdline", Fact::known(cmdline));
        f.set(
            "kernel.config_missing_ipset",
            Fact::known(Vec::<String>::new()),
        );
        f
    }

    #[test]
    fn docker_28_0_0_is_bad_only_without_ipv6_or_ipset() {
        let found = |f: &mut Facts| {
            derive(f);
            f.list("pacman.known_bad_versions").unwrap().to_vec()
        };
        let mut f = facts(&["docker 1:28.0.0-1"], 2, "root=/dev/sda2 rw");
        assert_eq!(found(&mut f), Vec::<String>::new());
        let mut f = facts(&["docker 1:28.0.0-1"], 2, "root=/dev/sda2 ipv6.disable=1");
        let list = found(&mut f);
        assert_eq!(list.len(), 1);
        assert!(list[0].contains("49504"), "{list:?}");
        let mut f = facts(&["docker 1:28.0.0-1"], 2, "root=/dev/sda2");
        f.set(
            "kernel.config_missing_ipset",
            Fact::known(vec!["CONFIG_IP_SET".to_owned()]),
        );
        let list = found(&mut f);
        assert_eq!(list.len(), 1);
        assert!(list[0].contains("49505"), "{list:?}");
        // Without a kernel config the ipset entry cannot be judged for 28.0.0 only.
        let mut f = facts(&["docker 1:28.0.0-1"], 2, "root=/dev/sda2");
        f.set("kernel.config_missing_ipset", Fact::unknown("no config"));
        derive(&mut f);
        assert!(matches!(
            f.get("pacman.known_bad_versions"),
            Fact::Unknown { .. }
        ));
        let mut f = facts(&["docker 1:28.0.1-1"], 2, "root=/dev/sda2");
        f.set("kernel.config_missing_ipset", Fact::unknown("no config"));
        assert_eq!(found(&mut f), Vec::<String>::new());
    }

    #[test]
    fn derives_matches_fixes_and_the_highest_severity() {
        let mut f = facts(
            &["iptables-nft 1:1.8.11-1", "systemd 256.7-1"],
            2,
            "root=/dev/sda2 rw",
        );
        derive(&mut f);
        let found = f.list("pacman.known_bad_versions").unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("iptables-nft 1:1.8.11-1: "),
            "{found:?}"
        );
        assert_eq!(f.text("pacman.known_bad_severity"), Some("warning"));

        let mut f = facts(
            &["iptables-nft 1:1.8.11-1", "systemd 256.7-1"],
            1,
            "root=/dev/sda2 systemd.unified_cgroup_hierarchy=0",
        );
        derive(&mut f);
        assert_eq!(f.list("pacman.known_bad_versions").unwrap().len(), 2);
        assert_eq!(f.list("pacman.known_bad_fixes").unwrap().len(), 2);
        assert_eq!(f.text("pacman.known_bad_severity"), Some("error"));

        let mut f = facts(&["iptables-nft 1:1.8.11-2", "systemd 255.10-1"], 1, "");
        derive(&mut f);
        assert_eq!(f.list("pacman.known_bad_versions"), Some(&[][..]));
        assert_eq!(
            f.value("pacman.known_bad_severity"),
            Some(&crate::facts::Value::Null)
        );
    }

    #[test]
    fn an_unknown_cgroup_layout_is_unknown_only_when_it_matters() {
        let mut f = facts(&["systemd 257.1-1"], 2, "");
        f.set("kernel.cgroup_version", Fact::unknown("no /proc/mounts"));
        derive(&mut f);
        assert!(matches!(
            f.get("pacman.known_bad_versions"),
            Fact::Unknown { .. }
        ));
        let mut f = facts(&["systemd 255.1-1"], 2, "");
        f.set("kernel.cgroup_version", Fact::unknown("no /proc/mounts"));
        derive(&mut f);
        assert_eq!(f.list("pacman.known_bad_versions"), Some(&[][..]));
    }
}
