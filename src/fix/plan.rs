//! The plan: per failing cause, in the report's order, the steps of its fix with who runs
//! them, their tier, what they change and how they are undone. Pure: findings in, plan out.

use serde::Serialize;

use crate::catalog::Tier;
use crate::facts::{Fact, Facts, Value};
use crate::finding::{Finding, Status};

/// Who runs a step's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunsAs {
    /// The user running dockdoc.
    User,
    /// root: through `sudo` for a user (sudo asks for the password, dockdoc never sees it),
    /// directly when dockdoc runs as root.
    Root,
}

impl RunsAs {
    /// A command that calls `sudo` runs (that part) as root.
    pub fn of(command: &str) -> RunsAs {
        let words = command.split(|c: char| c.is_whitespace() || "&|;()".contains(c));
        if words.into_iter().any(|w| w == "sudo") {
            RunsAs::Root
        } else {
            RunsAs::User
        }
    }
}

/// A failing check that is a cause, with the failures listed under it.
#[derive(Clone, Debug, Serialize)]
pub struct Cause {
    pub check: String,
    pub title: String,
    pub severity: String,
    pub summary: String,
    /// Failing checks listed under this cause (fixing the cause fixes them).
    pub consequences: Vec<String>,
}

/// One step of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The check whose fix this step is.
    pub check: String,
    /// The step's text, placeholders filled.
    pub step: String,
    pub command: Option<String>,
    pub runs_as: RunsAs,
    pub tier: Tier,
    pub changes: Option<String>,
    pub undo: Option<String>,
    /// Files the command writes, backed up before it runs and restored by `--undo`.
    pub writes: Vec<String>,
    /// The 1-based number of an earlier manual step of the same check that this one follows:
    /// it is not run, since it makes sense only once a person has done that one.
    pub after_manual: Option<usize>,
    /// The 1-based number of an earlier step with the same command: not run twice.
    pub same_as: Option<usize>,
    /// For a step that stops or restarts the daemon: which containers it stops (or that
    /// live-restore keeps them running).
    pub containers: Option<String>,
}

impl Step {
    /// Whether `dockdoc fix --apply` may run it (with consent): safe or disruptive, with a
    /// command, not waiting on a manual step and not a repeat.
    pub fn automatable(&self) -> bool {
        self.tier.automatable()
            && self.command.is_some()
            && self.after_manual.is_none()
            && self.same_as.is_none()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub causes: Vec<Cause>,
    /// Every step in order; reboot steps come last, once.
    pub steps: Vec<Step>,
}

/// The plan for these findings (in the report's order). Reboot steps are gathered at the end:
/// the plan ends with the reboot.
pub fn plan(findings: &[Finding], facts: &Facts) -> Plan {
    let mut causes = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut reboots: Vec<Step> = Vec::new();
    for f in findings.iter().filter(|f| f.is_problem()) {
        causes.push(Cause {
            check: f.id.clone(),
            title: f.title.clone(),
            severity: f.severity.as_str().to_owned(),
            summary: f.summary.clone(),
            consequences: findings
                .iter()
                .filter(|c| c.status == Status::Fail && c.consequence_of.as_deref() == Some(&f.id))
                .map(|c| c.id.clone())
                .collect(),
        });
        let mut manual_at: Option<usize> = None;
        for fs in &f.fix {
            let tier = fs.tier();
            let mut step = Step {
                check: f.id.clone(),
                step: fs.step.clone(),
                command: fs.command.clone(),
                runs_as: fs.command.as_deref().map_or(RunsAs::User, RunsAs::of),
                tier,
                changes: fs.changes.clone(),
                undo: fs.undo.clone(),
                writes: fs.writes.clone(),
                after_manual: None,
                same_as: None,
                containers: fs
                    .command
                    .as_deref()
                    .and_then(|c| containers_note(c, facts)),
            };
            if tier == Tier::Reboot {
                if !reboots.iter().any(|r| r.command == step.command) {
                    reboots.push(step);
                }
                continue;
            }
            step.after_manual = manual_at;
            if tier == Tier::Manual && manual_at.is_none() {
                manual_at = Some(steps.len() + 1);
            }
            if tier.automatable() {
                step.same_as = steps
                    .iter()
                    .position(|s| s.tier.automatable() && s.command == step.command)
                    .map(|i| i + 1);
            }
            steps.push(step);
        }
    }
    steps.extend(reboots);
    Plan { causes, steps }
}

/// What a command that stops or restarts the system daemon does to the running containers:
/// they stop unless live-restore is on.
fn containers_note(command: &str, facts: &Facts) -> Option<String> {
    let stops = ["systemctl restart docker", "systemctl stop docker"]
        .iter()
        .any(|c| command.contains(c));
    if !stops {
        return None;
    }
    let running = match facts.get("docker.running_containers") {
        Fact::Known {
            value: Value::List(names),
        } => names,
        Fact::Known { .. } => Vec::new(),
        Fact::Unknown { reason } | Fact::Skipped { reason } => {
            return Some(format!("which containers run is not known: {reason}"));
        }
    };
    if running.is_empty() {
        return Some("no container is running".into());
    }
    let names = running.join(", ");
    Some(match facts.get("docker.live_restore") {
        Fact::Known {
            value: Value::Bool(true),
        } => format!("live-restore is on: the running containers keep running ({names})"),
        Fact::Known { .. } => {
            format!("these running containers stop (live-restore is off): {names}")
        }
        _ => format!("these running containers stop unless live-restore is on: {names}"),
    })
}

impl Plan {
    /// The steps `--apply` may run.
    pub fn automatable(&self) -> impl Iterator<Item = (usize, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.automatable())
            .map(|(i, s)| (i + 1, s))
    }

    /// How many steps of a tier the plan holds.
    pub fn count(&self, tier: Tier) -> usize {
        self.steps.iter().filter(|s| s.tier == tier).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_of_the_daemon_names_the_containers_it_stops() {
        let mut facts = Facts::default();
        let restart = "sudo systemctl restart docker.service";
        assert_eq!(
            containers_note("sudo systemctl enable --now docker.socket", &facts),
            None
        );
        facts.set(
            "docker.running_containers",
            Fact::known(vec!["web".to_owned(), "db".to_owned()]),
        );
        facts.set("docker.live_restore", Fact::known(false));
        assert_eq!(
            containers_note(restart, &facts).as_deref(),
            Some("these running containers stop (live-restore is off): web, db")
        );
        facts.set("docker.live_restore", Fact::known(true));
        assert_eq!(
            containers_note(restart, &facts).as_deref(),
            Some("live-restore is on: the running containers keep running (web, db)")
        );
        facts.set("docker.running_containers", Fact::unknown("no answer"));
        assert_eq!(
            containers_note(restart, &facts).as_deref(),
            Some("which containers run is not known: no answer")
        );
    }

    #[test]
    fn sudo_anywhere_in_the_command_runs_as_root() {
        assert_eq!(
            RunsAs::of("sudo systemctl enable --now docker.socket"),
            RunsAs::Root
        );
        assert_eq!(RunsAs::of("echo 1 | sudo tee /sys/x"), RunsAs::Root);
        assert_eq!(RunsAs::of("loginctl enable-linger alice"), RunsAs::User);
        assert_eq!(RunsAs::of("echo pseudo"), RunsAs::User);
    }
}
