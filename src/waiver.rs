//! Waivers: an admin's written acceptance of a failing check, read from
//! `/etc/dockdoc/waivers.toml` and from `--waivers FILE`:
//!
//! ```toml
//! [[waiver]]
//! check = "docker-group-is-root-equivalent"   # a check id
//! reason = "CI runners: the docker group is the point"
//! expires = 2027-03-31                        # a TOML date: the last day it holds (UTC)
//! hosts = ["ci-runner-1", "ci-runner-2"]      # optional: only on these hostnames
//! ```
//!
//! A failing check with a matching waiver becomes `waived`: reported with its reason and not
//! counted for the exit status or `dockdoc_check_failed`. From the day after `expires` the check
//! keeps its real status and the report says the waiver expired. Only failures are waived: an
//! unknown check stays unknown. A waiver naming no known check, an unknown key, or a value of
//! the wrong type is a load error at file:line:col.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{Catalog, line_col, parse_toml};
use crate::error::{CatalogError, ProbeError};
use crate::finding::{Finding, Status, Waiver as Note};

/// The system-wide waivers file, read when it exists.
pub const SYSTEM_FILE: &str = "/etc/dockdoc/waivers.toml";

/// A waivers file larger than this is refused (it is read whole).
const MAX_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<RawWaiver>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    check: Spanned<String>,
    reason: String,
    expires: Spanned<toml::value::Datetime>,
    hosts: Option<Vec<String>>,
}

/// One loaded waiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub check: String,
    pub reason: String,
    /// The last day the waiver holds.
    pub expires: chrono::NaiveDate,
    /// The hostnames it holds on; `None`: every host.
    pub hosts: Option<Vec<String>>,
    /// Where it was written, for messages.
    pub file: PathBuf,
}

/// The waivers that loaded, and the errors of those that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub waivers: Vec<Waiver>,
    pub errors: Vec<CatalogError>,
}

/// Parses a waivers file's text. `file` names it in errors; `catalog` tells the known check ids.
pub fn load_str(file: &Path, text: &str, catalog: &Catalog) -> Loaded {
    let mut loaded = Loaded::default();
    let at = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        CatalogError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    let raw: RawFile = match parse_toml(file, text) {
        Ok(r) => r,
        Err(e) => {
            loaded.errors.push(e);
            return loaded;
        }
    };
    for w in raw.waiver {
        let id = w.check.get_ref();
        if catalog.get(id).is_none() {
            loaded.errors.push(at(
                w.check.span().start,
                format!("no check has the id `{id}` (see `dockdoc list`)"),
            ));
            continue;
        }
        let when = w.expires.get_ref();
        let date = match (when.date, when.time, when.offset) {
            (Some(d), None, None) => {
                chrono::NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
            }
            _ => None,
        };
        let Some(expires) = date else {
            loaded.errors.push(at(
                w.expires.span().start,
                format!("expires must be a date such as 2027-03-31, not `{when}`"),
            ));
            continue;
        };
        loaded.waivers.push(Waiver {
            check: id.clone(),
            reason: w.reason,
            expires,
            hosts: w.hosts,
            file: file.to_owned(),
        });
    }
    loaded
}

/// Reads and parses a waivers file. A missing file is an error only when `required`.
pub fn load_file(file: &Path, catalog: &Catalog, required: bool) -> Loaded {
    let whole = |message: String| Loaded {
        waivers: Vec::new(),
        errors: vec![CatalogError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message,
        }],
    };
    // Opened with O_NONBLOCK and judged by fstat on the open file, so a FIFO swapped in after a
    // look cannot hang the run, and nothing past the limit is read.
    let bytes = match crate::facts::sysroot::read_regular_file(file, MAX_BYTES) {
        Ok(bytes) => bytes,
        Err(ProbeError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound && !required =>
        {
            return Loaded::default();
        }
        Err(ProbeError::NotAFile { kind, .. }) => {
            return whole(format!("is {kind}, not a regular file; not reading it"));
        }
        Err(ProbeError::TooLarge { limit, .. }) => {
            return whole(format!(
                "larger than the {limit} bytes a waivers file may have"
            ));
        }
        Err(ProbeError::Io { source, .. }) => {
            return whole(format!("cannot read the waivers file: {source}"));
        }
        Err(other) => return whole(other.to_string()),
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_str(file, &text, catalog),
        Err(e) => whole(format!("the waivers file is not UTF-8: {e}")),
    }
}

/// Applies the waivers to the findings: on `hostname`, as of `today`, the first waiver that
/// names a failing check and holds on this host makes it `waived`, or, once expired, leaves it
/// failing with a note that says so.
pub fn apply(
    waivers: &[Waiver],
    findings: &mut [Finding],
    hostname: &str,
    today: chrono::NaiveDate,
) {
    for f in findings.iter_mut().filter(|f| f.status == Status::Fail) {
        let on_host = |w: &&Waiver| {
            w.hosts
                .as_ref()
                .is_none_or(|hosts| hosts.iter().any(|h| h == hostname))
        };
        let Some(w) = waivers.iter().filter(on_host).find(|w| w.check == f.id) else {
            continue;
        };
        let expired = today > w.expires;
        if !expired {
            f.status = Status::Waived;
        }
        f.waiver = Some(Note {
            reason: w.reason.clone(),
            expires: w.expires.to_string(),
            expired,
        });
    }
}

/// Today's date in UTC, against which `expires` is compared.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn catalog() -> Catalog {
        crate::catalog::load_builtin().catalog
    }

    #[test]
    fn unknown_check_and_bad_date_are_located() {
        let text = "[[waiver]]\ncheck = \"no-such-check\"\nreason = \"r\"\nexpires = 2027-01-01\n\n[[waiver]]\ncheck = \"docker-group-is-root-equivalent\"\nreason = \"r\"\nexpires = 2027-01-01T10:00:00\n";
        let l = load_str(Path::new("w.toml"), text, &catalog());
        let errors: Vec<String> = l.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("w.toml:2:9: no check has the id `no-such-check`"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("w.toml:9:11: expires must be a date"),
            "{errors:?}"
        );
    }

    #[test]
    fn unknown_key_is_located() {
        let text = "[[waiver]]\ncheck = \"docker-group-is-root-equivalent\"\nreason = \"r\"\nexpires = 2027-01-01\nhost = [\"a\"]\n";
        let l = load_str(Path::new("w.toml"), text, &catalog());
        assert_eq!(l.errors.len(), 1);
        assert!(
            l.errors[0]
                .to_string()
                .starts_with("w.toml:5:1: unknown field `host`"),
            "{}",
            l.errors[0]
        );
    }
}
