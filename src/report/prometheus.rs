//! The Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector,
//! written by the `prometheus-client` crate's encoder (escaping, HELP and TYPE lines):
//!
//! * `dockdoc_check_status{check,area,severity,status}`: one series per possible status of each
//!   check, 1 for the current one and 0 for the others, so no series disappears when a status
//!   changes;
//! * `dockdoc_check_failed{check,area,severity}`: 1 when the check failed (a waived check: 0);
//! * `dockdoc_findings{severity}`: how many checks of each severity failed (waived not counted);
//! * `dockdoc_last_run_timestamp_seconds`: when the run began, seconds since the Unix epoch;
//! * `dockdoc_run_duration_seconds`: how long gathering and evaluating took, in seconds;
//! * `dockdoc_build_info{version}`: always 1.
//!
//! Every family is a gauge: each file is a snapshot of one run, nothing accumulates.

use std::io::{self, Write};
use std::time::UNIX_EPOCH;

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::Report;
use crate::catalog::Severity;
use crate::finding::Status;

/// One check's labels and status.
#[derive(Debug)]
struct CheckSeries {
    check: String,
    area: String,
    severity: Severity,
    status: Status,
}

/// What one run shows, owned so the encoder can collect it.
#[derive(Debug)]
struct Snapshot {
    checks: Vec<CheckSeries>,
    started_seconds: f64,
    duration_seconds: f64,
}

const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

impl prometheus_client::collector::Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = MetricType::Gauge;
        {
            let mut family = encoder.encode_descriptor(
                "dockdoc_check_status",
                "Whether the check's status in the last run is the status label (1) or not (0); one series per possible status",
                None,
                gauge,
            )?;
            for c in &self.checks {
                for status in Status::ALL {
                    let labels = [
                        ("check", c.check.as_str()),
                        ("area", c.area.as_str()),
                        ("severity", c.severity.as_str()),
                        ("status", status.as_str()),
                    ];
                    ConstGauge::new(i64::from(c.status == status))
                        .encode(family.encode_family(&labels)?)?;
                }
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "dockdoc_check_failed",
                "Whether the check failed in the last run (1) or not (0); a waived check is 0",
                None,
                gauge,
            )?;
            for c in &self.checks {
                let labels = [
                    ("check", c.check.as_str()),
                    ("area", c.area.as_str()),
                    ("severity", c.severity.as_str()),
                ];
                ConstGauge::new(i64::from(c.status == Status::Fail))
                    .encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "dockdoc_findings",
                "Number of checks of each severity that failed in the last run, waived ones not counted",
                None,
                gauge,
            )?;
            for severity in SEVERITIES {
                let n = self
                    .checks
                    .iter()
                    .filter(|c| c.status == Status::Fail && c.severity == severity)
                    .count();
                let labels = [("severity", severity.as_str())];
                ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
                    .encode(family.encode_family(&labels)?)?;
            }
        }
        ConstGauge::new(self.started_seconds).encode(encoder.encode_descriptor(
            "dockdoc_last_run_timestamp_seconds",
            "When the last run began, in seconds since the Unix epoch",
            None,
            gauge,
        )?)?;
        ConstGauge::new(self.duration_seconds).encode(encoder.encode_descriptor(
            "dockdoc_run_duration_seconds",
            "How long the last run took to gather the facts and evaluate the checks, in seconds",
            None,
            gauge,
        )?)?;
        let mut family = encoder.encode_descriptor(
            "dockdoc_build_info",
            "The version of dockdoc that wrote these metrics; the value is always 1",
            None,
            gauge,
        )?;
        let labels = [("version", env!("CARGO_PKG_VERSION"))];
        ConstGauge::new(1_i64).encode(family.encode_family(&labels)?)?;
        Ok(())
    }
}

/// Writes the report as Prometheus text. Errors: only those of `out`.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let snapshot = Snapshot {
        checks: report
            .findings()
            .map(|f| CheckSeries {
                check: f.id.clone(),
                area: f.area.clone(),
                severity: f.severity,
                status: f.status,
            })
            .collect(),
        started_seconds: report
            .started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default(),
        duration_seconds: report.duration.as_secs_f64(),
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .map_err(|_| io::Error::other("the Prometheus encoder failed"))?;
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::catalog::Catalog;
    use crate::finding::{Finding, Waiver};

    fn finding(id: &str, area: &str, severity: Severity, status: Status) -> Finding {
        Finding {
            id: id.into(),
            area: area.into(),
            title: "t".into(),
            severity,
            status,
            summary: "s".into(),
            evidence: Vec::new(),
            fix: Vec::new(),
            waiver: None,
            consequence_of: None,
        }
    }

    fn render_text(findings: Vec<Finding>) -> String {
        let report = Report::new(
            &Catalog::default(),
            findings,
            vec!["docker".into()],
            Vec::new(),
        );
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn label_values_are_escaped() {
        let text = render_text(vec![finding(
            "x",
            "a \"quoted\" \\ area\nwith a newline",
            Severity::Warning,
            Status::Fail,
        )]);
        assert!(
            text.contains(r#"dockdoc_check_failed{check="x",area="a \"quoted\" \\ area\nwith a newline",severity="warning"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn every_status_has_a_series_and_waived_is_not_failed() {
        let mut waived = finding("w", "access", Severity::Error, Status::Waived);
        waived.waiver = Some(Waiver {
            reason: "r".into(),
            expires: "2999-12-31".into(),
            expired: false,
        });
        let text = render_text(vec![
            waived,
            finding("f", "access", Severity::Error, Status::Fail),
        ]);
        let series = |s: &str| text.lines().any(|l| l == s);
        for status in Status::ALL {
            let value = u8::from(status == Status::Waived);
            assert!(
                series(&format!(
                    "dockdoc_check_status{{check=\"w\",area=\"access\",severity=\"error\",status=\"{}\"}} {value}",
                    status.as_str()
                )),
                "{text}"
            );
        }
        assert!(series(
            r#"dockdoc_check_failed{check="w",area="access",severity="error"} 0"#
        ));
        assert!(series(
            r#"dockdoc_check_failed{check="f",area="access",severity="error"} 1"#
        ));
        assert!(series(r#"dockdoc_findings{severity="error"} 1"#));
        assert!(series(r#"dockdoc_findings{severity="info"} 0"#));
        assert!(text.contains("# TYPE dockdoc_run_duration_seconds gauge\n"));
        assert!(series(&format!(
            "dockdoc_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
