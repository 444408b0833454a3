//! Findings grouped by area and counted, and the renderers: text, JSON, Markdown, and for
//! monitoring and CI, Prometheus text exposition, a Nagios plugin's output and JUnit XML.

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod nagios;
pub mod prometheus;

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::catalog::{Catalog, Severity};
use crate::finding::{Finding, Status};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    pub skipped: usize,
    pub not_applicable: usize,
    pub waived: usize,
}

impl Counts {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.status {
                Status::Pass => c.pass += 1,
                Status::Fail => c.fail += 1,
                Status::Unknown => c.unknown += 1,
                Status::Skipped => c.skipped += 1,
                Status::NotApplicable => c.not_applicable += 1,
                Status::Waived => c.waived += 1,
            }
        }
        c
    }
}

/// One area's findings, in catalog order.
#[derive(Clone, Debug)]
pub struct Group {
    pub area: String,
    pub title: String,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub profiles: Vec<String>,
    pub host: Vec<(String, String)>,
    pub groups: Vec<Group>,
    pub counts: Counts,
    /// When the run began (the wall clock, before the facts were gathered).
    pub started: SystemTime,
    /// How long gathering and evaluating took.
    pub duration: Duration,
}

impl Report {
    pub fn new(
        catalog: &Catalog,
        findings: Vec<Finding>,
        profiles: Vec<String>,
        host: Vec<(String, String)>,
    ) -> Report {
        let counts = Counts::of(&findings);
        let mut groups: Vec<Group> = Vec::new();
        for f in findings {
            match groups.iter_mut().find(|g| g.area == f.area) {
                Some(g) => g.findings.push(f),
                None => groups.push(Group {
                    title: catalog.area_title(&f.area).to_owned(),
                    area: f.area.clone(),
                    findings: vec![f],
                }),
            }
        }
        Report {
            profiles,
            host,
            groups,
            counts,
            started: SystemTime::now(),
            duration: Duration::ZERO,
        }
    }

    /// The report with every text in it shown through [`crate::terminal::visible`]: what
    /// every format but JSON renders, so no value from the machine, a facts file or a waiver
    /// reaches the reader's terminal with a control character in it.
    pub fn visible(&self) -> Report {
        let shown = |s: &str| crate::terminal::visible(s).into_owned();
        Report {
            profiles: self.profiles.iter().map(|p| shown(p)).collect(),
            host: self
                .host
                .iter()
                .map(|(k, v)| (shown(k), shown(v)))
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|g| Group {
                    area: shown(&g.area),
                    title: shown(&g.title),
                    findings: g.findings.iter().map(Finding::visible).collect(),
                })
                .collect(),
            counts: self.counts,
            started: self.started,
            duration: self.duration,
        }
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.groups.iter().flat_map(|g| g.findings.iter())
    }

    /// Whether a check of severity error failed.
    pub fn has_error(&self) -> bool {
        self.fails_at(Severity::Error)
    }

    /// Whether a check of `min` severity or worse failed (a waived check did not fail).
    pub fn fails_at(&self, min: Severity) -> bool {
        self.findings()
            .any(|f| f.status == Status::Fail && f.severity >= min)
    }

    /// The problems of a severity: failures that are not a consequence of another.
    pub fn failed_with(&self, severity: Severity) -> usize {
        self.findings()
            .filter(|f| f.is_problem() && f.severity == severity)
            .count()
    }

    /// The failures listed under their cause (see `eval::link_consequences`).
    pub fn consequences_of<'a>(&'a self, cause: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings()
            .filter(move |f| f.consequence_of.as_deref() == Some(cause))
    }

    /// How many failures are listed under their cause.
    pub fn consequences(&self) -> usize {
        self.findings()
            .filter(|f| f.status == Status::Fail && f.consequence_of.is_some())
            .count()
    }
}
