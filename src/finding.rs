//! The result of evaluating one check against the facts.

use serde::Serialize;

use crate::catalog::{FixStep, Severity};
use crate::facts::Fact;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
    Skipped,
    NotApplicable,
    /// A failure an admin accepted with a waiver that has not expired (see [`Waiver`]).
    Waived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
            Status::NotApplicable => "not_applicable",
            Status::Waived => "waived",
        }
    }

    /// Every status, in the order the reports list them.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::Fail,
        Status::Unknown,
        Status::Skipped,
        Status::NotApplicable,
        Status::Waived,
    ];
}

/// The waiver that matched a failing check: why it is accepted, until when, and whether that
/// date has passed (then the check keeps its real status and the report says so).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waiver {
    pub reason: String,
    /// The last day the waiver holds, as written in the waivers file (`YYYY-MM-DD`).
    pub expires: String,
    pub expired: bool,
}

/// One fact a check read, with what it was.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub fact: String,
    #[serde(flatten)]
    pub state: Fact,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: String,
    pub area: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    /// For a failure, the check's summary with facts filled in; otherwise what decided the status.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub fix: Vec<FixStep>,
    /// For a failure that another failing check causes: that check's id (the root of the
    /// chain). It is listed under its cause, with the cause's fix, not as a problem of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence_of: Option<String>,
    /// The waiver that matched this check, if any (its status is `waived` unless it expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
}

impl Finding {
    /// The finding with every text in it shown through [`crate::terminal::visible`], for a
    /// format a person reads: summaries and fixes hold values filled in from the facts.
    pub fn visible(&self) -> Finding {
        let shown = |s: &str| crate::terminal::visible(s).into_owned();
        Finding {
            id: shown(&self.id),
            area: shown(&self.area),
            title: shown(&self.title),
            severity: self.severity,
            status: self.status,
            summary: shown(&self.summary),
            evidence: self
                .evidence
                .iter()
                .map(|e| Evidence {
                    fact: shown(&e.fact),
                    state: e.state.visible(),
                })
                .collect(),
            fix: self
                .fix
                .iter()
                .map(|f| FixStep {
                    step: shown(&f.step),
                    command: f.command.as_deref().map(shown),
                    changes: f.changes.as_deref().map(shown),
                    undo: f.undo.as_deref().map(shown),
                    writes: f.writes.iter().map(|w| shown(w)).collect(),
                    ..f.clone()
                })
                .collect(),
            consequence_of: self.consequence_of.as_deref().map(shown),
            waiver: self.waiver.as_ref().map(|w| Waiver {
                reason: shown(&w.reason),
                expires: shown(&w.expires),
                expired: w.expired,
            }),
        }
    }

    /// A failure that is not a consequence of another: one cause, one fix.
    pub fn is_problem(&self) -> bool {
        self.status == Status::Fail && self.consequence_of.is_none()
    }
}
