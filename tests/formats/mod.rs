//! The monitoring and CI formats of each scenario's report, checked against their consumers:
//! the Prometheus text by `promtool check metrics`, the JSON by python-jsonschema against
//! schema/report.schema.json and the JUnit XML by junitparser (tests/formats/validate.py),
//! and the Nagios output against the monitoring-plugins guidelines (status word, perfdata
//! syntax, exit status).

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

/// What checking the formats with their consumers needs: promtool, and python3 with
/// jsonschema and junitparser.
pub const CONSUMERS: &[crate::common::prereq::Need] = &[
    crate::common::prereq::Need::Program("promtool"),
    crate::common::prereq::Need::PythonModule("jsonschema"),
    crate::common::prereq::Need::PythonModule("junitparser"),
];

/// The plugin state a report must map to, worked out from the JSON report alone.
pub fn expected_state(report: &Json) -> (&'static str, i32) {
    let checks = report["checks"].as_array().unwrap();
    let any = |status: &str, severity: &str| {
        checks
            .iter()
            .any(|c| c["status"] == status && c["severity"] == severity)
    };
    if any("fail", "error") {
        ("CRITICAL", 2)
    } else if any("unknown", "error") {
        ("UNKNOWN", 3)
    } else if any("fail", "warning") {
        ("WARNING", 1)
    } else {
        ("OK", 0)
    }
}

/// Checks one scenario's Nagios output and exit status; returns the state word.
pub fn check_nagios(name: &str, report: &Json, code: i32, text: &str) -> String {
    let checks = report["checks"].as_array().unwrap();
    let count = |status: &str, severity: Option<&str>| {
        checks
            .iter()
            .filter(|c| c["status"] == status && severity.is_none_or(|s| c["severity"] == s))
            .count()
    };
    let (word, want_code) = expected_state(report);
    assert_eq!(
        code, want_code,
        "{name}: exit status of --format nagios:\n{text}"
    );
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let (status, perfdata) = first
        .split_once('|')
        .unwrap_or_else(|| panic!("{name}: no perfdata in {first:?}"));
    assert!(
        status.starts_with(&format!("DOCKDOC {word} - ")),
        "{name}: status line {first:?}, expected {word}"
    );
    assert!(!perfdata.contains('|'), "{name}: a second | in {first:?}");
    // label=value[UOM];[warn];[crit];[min][;max], space separated; here value;;;0.
    let mut seen = Vec::new();
    for item in perfdata.split_whitespace() {
        let (label, rest) = item.split_once('=').unwrap();
        let fields: Vec<&str> = rest.split(';').collect();
        assert_eq!(fields.len(), 4, "{name}: perfdata {item:?}");
        let value: usize = fields[0]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: perfdata value {item:?}"));
        assert_eq!(&fields[1..], ["", "", "0"], "{name}: perfdata {item:?}");
        seen.push((label.to_owned(), value));
    }
    // The perfdata counts problems: a failure listed under its cause (consequence_of) is the
    // cause's, not one more error.
    let problems_with = |severity: &str| {
        checks
            .iter()
            .filter(|c| {
                c["status"] == "fail"
                    && c["severity"] == severity
                    && c.get("consequence_of").is_none()
            })
            .count()
    };
    let want = vec![
        ("errors".to_owned(), problems_with("error")),
        ("warnings".to_owned(), problems_with("warning")),
        ("unknown".to_owned(), count("unknown", None)),
    ];
    assert_eq!(seen, want, "{name}: perfdata {perfdata:?}");
    let problems: Vec<&str> = lines.collect();
    assert_eq!(
        problems.len(),
        count("fail", None) + count("unknown", None) + count("waived", None),
        "{name}: one line per problem:\n{text}"
    );
    for line in &problems {
        assert!(!line.contains('|'), "{name}: a | in {line:?}");
        let label = line.split(':').next().unwrap_or_default();
        assert!(
            ["CRITICAL", "WARNING", "UNKNOWN", "NOTE", "WAIVED"].contains(&label),
            "{name}: {line:?}"
        );
    }
    word.to_owned()
}

/// `promtool check metrics` on one file (it reads standard input); panics with its output.
pub fn promtool(path: &Path) {
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(path).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates every JSON and JUnit report in `dir` (see tests/formats/validate.py).
pub fn validate_dir(dir: &Path) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("/usr/bin/python3")
        .arg(manifest.join("tests/formats/validate.py"))
        .arg(manifest.join("schema/report.schema.json"))
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "validate.py:\n{text}");
    eprint!("{text}");
}
