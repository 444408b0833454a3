//! JUnit XML for CI, written by the `quick-junit` crate: one `<testsuite>` per area, one
//! `<testcase>` per check (name = check id, classname = `dockdoc.<area>`). A failed check is a
//! `<failure>` (type = severity), an unknown one an `<error>`, and a skipped, not applicable
//! or waived one `<skipped>`; the message is the summary and the text holds the fix steps
//! and the evidence.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::finding::{Finding, Status};

fn details(f: &Finding) -> String {
    let mut text = f.summary.clone();
    for step in &f.fix {
        match &step.command {
            Some(cmd) => text.push_str(&format!("\nfix: {}: {cmd}", step.step)),
            None => text.push_str(&format!("\nfix: {}", step.step)),
        }
    }
    if let Some(w) = &f.waiver {
        let state = if w.expired {
            "waiver expired"
        } else {
            "waived until"
        };
        text.push_str(&format!("\n{state} {}: {}", w.expires, w.reason));
    }
    for e in &f.evidence {
        text.push_str(&format!("\n{} = {}", e.fact, e.state));
    }
    text.push_str(&format!("\nmore: dockdoc explain {}", f.id));
    text
}

fn status(f: &Finding) -> TestCaseStatus {
    let mut status = match f.status {
        Status::Pass => return TestCaseStatus::success(),
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Status::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
        Status::Skipped | Status::NotApplicable | Status::Waived => TestCaseStatus::skipped(),
    };
    let message = match (&f.waiver, f.status) {
        (Some(w), Status::Waived) => format!("waived until {}: {}", w.expires, w.reason),
        _ => f.summary.clone(),
    };
    status
        .set_message(message)
        .set_type(format!("{} {}", f.severity, f.status.as_str()))
        .set_description(details(f));
    status
}

/// Writes the report as JUnit XML. Errors: those of `out`, or the XML writer's.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut junit = quick_junit::Report::new("dockdoc");
    junit.set_time(report.duration);
    for group in &report.groups {
        let mut suite = TestSuite::new(group.area.as_str());
        for f in &group.findings {
            let mut case = TestCase::new(f.id.as_str(), status(f));
            case.set_classname(format!("dockdoc.{}", f.area));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}
