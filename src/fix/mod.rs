//! `dockdoc fix`: the plan for the failing causes (changes nothing), `--apply` (runs the
//! automatable steps with consent, then gathers and evaluates again and shows each check
//! before → after), `--undo` (reverts a run from its journal) and `--list-runs`.
//!
//! Data flows one way: facts → checks → findings → [`plan::plan`] → render or apply. Only
//! `--apply` and `--undo` change anything (docs/usage.md, "Fixing").

pub mod apply;
pub mod journal;
pub mod plan;
pub mod render;
pub mod verify;

use std::io::Write as _;

use anyhow::Result;

use crate::app;
use crate::catalog::{Catalog, Severity};
use crate::cli::{FixArgs, FixFormat};
use crate::eval::{self, Selection};
use crate::facts::Facts;
use crate::finding::{Finding, Status};

/// The fact keys the selected checks read: optional questions are asked only for them.
fn wanted_facts<'c>(
    catalog: &'c Catalog,
    profile: &[String],
    only: &[String],
    skip: &[String],
) -> Vec<&'c str> {
    let selection = Selection {
        profiles: if profile.is_empty() {
            vec!["docker".to_owned()]
        } else {
            profile.to_vec()
        },
        only: only.to_vec(),
        skip: skip.to_vec(),
    };
    catalog
        .checks
        .iter()
        .filter(|c| selection.includes(c) && !selection.skip.contains(&c.id))
        .flat_map(|c| c.fact_keys())
        .collect()
}

/// Gathers and evaluates as `check` does (no waivers, no active probe), for `fix`.
fn findings(args: &FixArgs, catalog: &Catalog) -> Result<(Facts, Vec<Finding>)> {
    let wanted = wanted_facts(catalog, &args.profile, &args.only, &args.skip);
    // A step that restarts or stops docker.service names the containers it stops, from the
    // container list.
    let asks = crate::facts::Questions {
        containers: true,
        ..crate::facts::Questions::for_keys(wanted)
    };
    let facts = app::gather(&args.probe, asks)?;
    let selection = Selection {
        profiles: eval::profiles(&args.profile, Some(&facts)),
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let findings = eval::run(catalog, &facts, &selection);
    Ok((facts, findings))
}

/// `dockdoc fix`: plan (changes nothing), `--apply`, `--undo`, `--list-runs`; the exit status
/// as `check`'s (after the fix, for `--apply`).
pub fn run(args: &FixArgs) -> Result<u8> {
    let as_root = apply::as_root();
    let stdin = std::io::stdin();
    let terminal = std::io::IsTerminal::is_terminal(&stdin);
    let mut lock = stdin.lock();
    let mut consent = apply::Consent {
        yes: args.yes,
        answers: terminal.then_some(&mut lock as &mut dyn std::io::BufRead),
    };
    let mut out = app::stdout(args.color);
    if args.yes && !args.apply && args.undo.is_none() {
        anyhow::bail!("--yes goes with --apply or --undo");
    }
    if args.list_runs {
        let mut text = Vec::new();
        apply::list_runs(as_root, &mut text)?;
        app::print(&mut out, &text)?;
        return Ok(0);
    }
    if let Some(run) = &args.undo {
        apply::refuse_without_consent(&consent, "dockdoc fix --undo")?;
        let wanted = Some(run.as_str()).filter(|r| !r.is_empty());
        let ok = apply::undo(wanted, &mut consent, as_root, &mut out)?;
        return Ok(if ok { 0 } else { 1 });
    }
    let loaded = app::load_catalog(&args.catalog);
    for id in args.only.iter().chain(&args.skip) {
        if loaded.catalog.get(id).is_none() {
            anyhow::bail!("no check has the id `{id}` (see `dockdoc list`)");
        }
    }
    let (facts, before) = findings(args, &loaded.catalog)?;
    let the_plan = plan::plan(&before, &facts);
    let mut text = Vec::new();
    if !args.apply {
        match args.format {
            FixFormat::Text => render::text(&the_plan, as_root, &mut text)?,
            FixFormat::Json => render::json(&the_plan, &mut text)?,
            FixFormat::Shell => render::shell(&the_plan, &mut text)?,
        }
        app::print(&mut out, &text)?;
        let failing = the_plan.causes.iter().any(|c| c.severity == "error");
        return Ok(if !loaded.errors.is_empty() {
            2
        } else {
            u8::from(failing)
        });
    }
    if args.format != FixFormat::Text {
        anyhow::bail!("--apply reports in text only");
    }
    if the_plan.automatable().next().is_some() {
        apply::refuse_without_consent(&consent, "dockdoc fix --apply")?;
    }
    render::text(&the_plan, as_root, &mut text)?;
    app::print(&mut out, &text)?;
    writeln!(
        out,
        "
Applying:"
    )?;
    let user = facts.text("user.name").unwrap_or_default().to_owned();
    let applied = apply::apply(&the_plan, &mut consent, as_root, &user, &mut out)?;
    let (_, after) = findings(args, &loaded.catalog)?;
    let lines = verify::compare(
        &loaded.catalog,
        &the_plan,
        &before,
        &after,
        !applied.ran.is_empty(),
    );
    let mut text = Vec::new();
    verify::render(&lines, &after, &mut text)?;
    app::print(&mut out, &text)?;
    let failing = after
        .iter()
        .any(|f| f.status == Status::Fail && f.severity >= Severity::Error);
    Ok(if !loaded.errors.is_empty() {
        2
    } else {
        u8::from(failing || !applied.failed.is_empty())
    })
}
