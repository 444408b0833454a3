//! Wiring: load the catalog, gather (or replay) facts, evaluate, render.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context as _, Result};

use crate::catalog::{self, Loaded, Severity};
use crate::cli::{
    CatalogArgs, CatalogFormat, CheckArgs, Cli, ColorChoice, Command, FactsArgs, FailOn, ListArgs,
    ListFormat, ProbeArgs, ReportFormat,
};
use crate::eval::{self, Selection};
use crate::explain;
use crate::facts::{self, Context, Endpoints, Env, Facts, Sysroot};
use crate::report::{self, Report};
use crate::waiver;

/// Runs the command and returns the exit status: 0 no check at the `--fail-on` level (default:
/// error) failed, 1 one did, 2 dockdoc could not do everything that was asked (e.g. a check or
/// waivers file did not load); with `--format nagios`, the plugin's state 0 to 3. A reader
/// that closes standard output early changes none of these (see [`printed`]).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => check(cli.check),
        Some(Command::Check(args)) => check(args),
        Some(Command::List(args)) => list(args),
        Some(Command::Explain(args)) => explain(&args),
        Some(Command::Facts(args)) => facts_command(args),
        Some(Command::Fix(args)) => crate::fix::run(&args),
        Some(Command::Generate(args)) => generate(args),
        Some(Command::Hook(args)) => {
            let mut out = std::io::stdout().lock();
            // A hook must never fail the transaction: report, and exit 0 whatever happens.
            let result = crate::hook::kernel_upgrade(args.root.as_deref(), &mut out);
            if let Err(e) = printed(result.map_err(anyhow::Error::from)) {
                eprintln!(
                    "dockdoc: {}",
                    crate::terminal::visible_lines(&e.to_string())
                );
            }
            Ok(0)
        }
    }
}

/// Writes the man page or completions, generated from the clap definitions so they never go stale.
fn generate(args: crate::cli::GenerateArgs) -> Result<u8> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    printed((|| {
        match args.what {
            crate::cli::Generated::Man => crate::manpage::render(&mut out)?,
            crate::cli::Generated::Completions { shell } => {
                clap_complete::generate(shell, &mut cmd, "dockdoc", &mut out);
            }
        }
        Ok(out.flush()?)
    })())?;
    Ok(0)
}

/// Whether `err` is a write to a reader that has gone (EPIPE), directly or through serde_json.
fn broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                e.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// The outcome of printing to standard output. A reader that closed early (`dockdoc | head -1`)
/// ends the printing, not the command: it is not an error, and the exit status stays the one
/// the command computed, whether the reader closed before the first write or after the last.
pub(crate) fn printed(result: Result<()>) -> Result<()> {
    match result {
        Err(e) if broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// Writes a rendered output to standard output in one go, under [`printed`]'s rule.
pub(crate) fn print(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    printed(
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(Into::into),
    )
}

pub(crate) fn stdout(color: ColorChoice) -> anstream::AutoStream<std::io::Stdout> {
    let choice = match color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    anstream::AutoStream::new(std::io::stdout(), choice)
}

/// The user check directories, in load order: system-wide, then per user, then `--checks-dir`.
fn check_dirs(args: &CatalogArgs) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/etc/dockdoc/checks.d")];
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(home) = config_home {
        dirs.push(home.join("dockdoc/checks.d"));
    }
    dirs.extend(args.checks_dir.iter().cloned());
    dirs
}

/// Loads the built-in checks and the user's; every load error is printed to stderr with its
/// file:line:col, and the checks that did load are returned.
pub fn load_catalog(args: &CatalogArgs) -> Loaded {
    let mut loaded = catalog::load_builtin();
    for dir in check_dirs(args) {
        loaded.merge(catalog::load_dir(&dir));
    }
    loaded.finish();
    for e in &args.checks_dir {
        if !e.is_dir() {
            loaded.errors.push(crate::error::CatalogError {
                file: e.clone(),
                line: 0,
                column: 0,
                message: "no such directory".into(),
            });
        }
    }
    loaded.catalog.sort();
    for e in &loaded.errors {
        eprintln!(
            "dockdoc: error: {}",
            crate::terminal::visible_lines(&e.to_string())
        );
    }
    loaded
}

fn context(probe: &ProbeArgs) -> Context {
    let sysroot = Sysroot::new(probe.root.clone().unwrap_or_else(|| PathBuf::from("/")));
    let endpoints = Endpoints {
        docker_host: probe.docker_host.clone(),
        system_bus: probe.system_bus.clone(),
        user_bus: probe.user_bus.clone(),
        use_defaults: probe.root.is_none(),
    };
    // Under sudo the environment is reset; judge the invoking user's own (never under --root).
    let env = match probe.root {
        None => crate::facts::user::invoker_env(&sysroot, Env::from_process()),
        Some(_) => Env::from_process(),
    };
    let mut ctx = Context::new(sysroot, endpoints, env, probe.timeout);
    ctx.dockerd_validate = !probe.no_validate;
    ctx
}

/// Gathers the facts on a current-thread runtime built for this one run, asking the optional
/// questions `asks` (those whose answers the checks to be evaluated read).
pub fn gather(probe: &ProbeArgs, asks: crate::facts::Questions) -> Result<Facts> {
    let ctx = context(probe).asking(asks);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let options = crate::gather::Options {
        no_activate: probe.no_activate,
    };
    let facts = runtime.block_on(crate::gather::gather(&ctx, options));
    // A probe that timed out may still hold a connection; do not wait for it.
    runtime.shutdown_background();
    Ok(facts)
}

/// The optional questions `explain` asks, given the facts of the checks the paste points at.
/// Besides those, the verdict judges the checks the paste only touches and those failing in
/// their areas: every question is asked but `/version`, which costs the daemon as much as
/// `/info` and is asked only when a check the paste points at reads it.
fn explain_questions<'a>(wanted: impl IntoIterator<Item = &'a str>) -> crate::facts::Questions {
    crate::facts::Questions {
        min_api_version: crate::facts::Questions::for_keys(wanted).min_api_version,
        ..crate::facts::Questions::ALL
    }
}

/// `dockdoc explain`: documents a check, or recognises the pasted text and, when something
/// matched and `--offline` is not given, gathers the facts as `check` does (or reads them with
/// `--facts`) and hands them to explain's verdict.
fn explain(args: &crate::cli::ExplainArgs) -> Result<u8> {
    let loaded = load_catalog(&args.catalog);
    let code = match explain::input(args) {
        None => {
            printed(explain::document(&loaded.catalog, args).map(drop))?;
            0
        }
        Some(input) => {
            let recognised = explain::recognise(&loaded.catalog, input)?;
            // The checks the paste points at say whether `/version` is asked.
            let wanted: Vec<&str> = recognised
                .checks(&loaded.catalog)
                .into_iter()
                .filter_map(|i| loaded.catalog.checks.get(i))
                .flat_map(|c| c.fact_keys())
                .collect();
            // A facts file given is read (and a broken one reported) whatever the paste holds.
            let facts = match &args.facts {
                _ if args.offline => None,
                Some(path) => Some(read_facts(path)?),
                None if recognised.is_empty(&loaded.catalog) => None,
                None => Some(gather(&args.probe, explain_questions(wanted))?),
            };
            printed(explain::report(&loaded.catalog, args, recognised, facts.as_ref()).map(drop))?;
            0
        }
    };
    Ok(if loaded.errors.is_empty() { code } else { 2 })
}

/// Facts files larger than this are refused: a whole machine's facts are tens of KiB.
const MAX_FACTS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads `--facts FILE`: a regular file of at most [`MAX_FACTS_FILE_BYTES`] (a FIFO, a device
/// or a huge file is refused before it is read), holding a dockdoc facts file.
fn read_facts(path: &Path) -> Result<Facts> {
    let bytes = crate::facts::sysroot::read_regular_file(path, MAX_FACTS_FILE_BYTES)
        .map_err(|e| anyhow::anyhow!("cannot read the facts file: {e}"))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a dockdoc facts file", path.display()))
}

fn check(args: CheckArgs) -> Result<u8> {
    if args.format != ReportFormat::Nagios {
        return check_report(&args);
    }
    // A plugin that cannot run says UNKNOWN (3), never CRITICAL (2), which exit 2 would mean.
    check_report(&args).or_else(|e| {
        let reason =
            crate::terminal::visible(&format!("{e:#}").replace('|', "/").replace('\n', " "))
                .into_owned();
        let line = format!("DOCKDOC UNKNOWN - dockdoc could not run: {reason}\n");
        print(&mut std::io::stdout().lock(), line.as_bytes())?;
        Ok(crate::report::nagios::State::Unknown.code())
    })
}

/// Loads /etc/dockdoc/waivers.toml (when it exists) and every `--waivers FILE`; each load
/// error is printed to stderr with its file:line:col.
fn load_waivers(files: &[PathBuf], catalog: &catalog::Catalog) -> waiver::Loaded {
    let mut loaded = waiver::load_file(Path::new(waiver::SYSTEM_FILE), catalog, false);
    for file in files {
        let one = waiver::load_file(file, catalog, true);
        loaded.waivers.extend(one.waivers);
        loaded.errors.extend(one.errors);
    }
    for e in &loaded.errors {
        eprintln!(
            "dockdoc: error: {}",
            crate::terminal::visible_lines(&e.to_string())
        );
    }
    loaded
}

/// The ids of `--only` and `--skip` that no loaded check has, as the usage error.
fn unknown_ids(loaded: &Loaded, args: &CheckArgs) -> Result<()> {
    for id in args.only.iter().chain(&args.skip) {
        if loaded.catalog.get(id).is_none() {
            anyhow::bail!("no check has the id `{id}` (see `dockdoc list`)");
        }
    }
    Ok(())
}

/// The optional questions whose answers the checks `args` select read.
fn selection_questions(loaded: &Loaded, args: &CheckArgs) -> crate::facts::Questions {
    let selection = Selection {
        profiles: if args.profile.is_empty() {
            vec!["docker".to_owned()]
        } else {
            args.profile.clone()
        },
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    crate::facts::Questions::for_keys(
        loaded
            .catalog
            .checks
            .iter()
            .filter(|c| selection.includes(c) && !selection.skip.contains(&c.id))
            .flat_map(|c| c.fact_keys()),
    )
}

/// Loads the checks and gathers the facts at once: the checks load on a blocking thread
/// while the probes start (the Docker probe's first requests do not depend on them), and
/// they decide which optional questions are asked (`/version` once `/info` has answered,
/// libvirt's units once docker's are read). A selection that names
/// an unknown check stops the run before anything that could start the daemon.
fn load_and_gather(args: &CheckArgs) -> Result<(Loaded, Facts)> {
    let (decide, decision) = tokio::sync::watch::channel(None);
    let ctx = context(&args.probe).asking_later(decision);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let options = crate::gather::Options {
        no_activate: args.probe.no_activate,
    };
    let owned = args.clone();
    let (loaded, facts) = runtime.block_on(async {
        // Started once the probes have sent their first questions.
        let load = crate::gather::after_first_turn(async {
            tokio::task::spawn_blocking(move || {
                let loaded = load_catalog(&owned.catalog);
                let checked = unknown_ids(&loaded, &owned);
                if checked.is_ok() {
                    // Nobody waiting is fine: the probes may have finished without asking.
                    let _ = decide.send(Some(selection_questions(&loaded, &owned)));
                }
                (loaded, checked)
            })
            .await
        });
        let (facts, loaded) = tokio::join!(biased; crate::gather::gather(&ctx, options), load);
        (loaded, facts)
    });
    // A probe that timed out may still hold a connection; do not wait for it.
    runtime.shutdown_background();
    let (loaded, checked) = loaded.context("loading the checks failed")?;
    checked?;
    Ok((loaded, facts))
}

fn check_report(args: &CheckArgs) -> Result<u8> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let (loaded, mut facts) = match &args.facts {
        Some(path) => {
            let loaded = load_catalog(&args.catalog);
            unknown_ids(&loaded, args)?;
            let facts = read_facts(path)?;
            (loaded, facts)
        }
        None => load_and_gather(args)?,
    };
    let waivers = load_waivers(&args.waivers, &loaded.catalog);
    // The CLI talks to a rootless daemon: its own checks apply without asking.
    let profiles = crate::eval::profiles(&args.profile, Some(&facts));
    let mut probe_failed = false;
    if args.probes.iter().any(|p| p == "network") {
        probe_failed = probe_network(&args.probe, &mut facts)?;
    }
    let selection = Selection {
        profiles: profiles.clone(),
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    // Set here, so that evaluating does not copy the facts to add them.
    facts.set("run.profiles", facts::Fact::known(profiles.clone()));
    let mut findings = eval::run(&loaded.catalog, &facts, &selection);
    if !waivers.waivers.is_empty() {
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        waiver::apply(&waivers.waivers, &mut findings, &hostname, waiver::today());
    }
    let host = facts
        .host
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut report = Report::new(&loaded.catalog, findings, profiles, host);
    report.started = started;
    report.duration = clock.elapsed();
    let load_errors = loaded.errors.len() + waivers.errors.len();
    let trouble = (load_errors > 0)
        .then(|| format!("{load_errors} check or waiver file errors (see standard error)"));
    // Rendered whole, then written at once: stdout is line-buffered, one write per line.
    let mut rendered = Vec::new();
    let mut plugin_state = None;
    // JSON escapes control characters itself; every other format shows the report's texts
    // with them made visible.
    let shown = || report.visible();
    match args.format {
        ReportFormat::Text => {
            report::human::render(&shown(), args.display.verbose, &mut rendered)?;
        }
        ReportFormat::Json => report::json::render(&report, &mut rendered)?,
        ReportFormat::Markdown => report::markdown::render(&shown(), &mut rendered)?,
        ReportFormat::Prometheus => report::prometheus::render(&shown(), &mut rendered)?,
        ReportFormat::Junit => report::junit::render(&shown(), &mut rendered)?,
        ReportFormat::Nagios => {
            plugin_state = Some(report::nagios::render(
                &shown(),
                trouble.as_deref(),
                &mut rendered,
            )?);
        }
    }
    match &args.output {
        Some(path) => {
            if args.format == ReportFormat::Text {
                // A file gets no colour.
                let mut plain = anstream::StripStream::new(Vec::new());
                plain.write_all(&rendered)?;
                rendered = plain.into_inner();
            }
            crate::output::write_report(path, &rendered)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
        }
        None if args.format == ReportFormat::Text => {
            print(&mut stdout(args.display.color), &rendered)?;
        }
        None => {
            // The other formats carry no colour, so there is nothing to strip.
            print(&mut std::io::stdout().lock(), &rendered)?;
        }
    }
    if let Some(state) = plugin_state {
        return Ok(state.code());
    }
    let failed = match args.fail_on {
        FailOn::Error => report.fails_at(Severity::Error) || probe_failed,
        FailOn::Warning => report.fails_at(Severity::Warning) || probe_failed,
        FailOn::Never => false,
    };
    // The run ends here: freeing the catalog, the facts and the report one allocation at a
    // time would cost about as much as evaluating them; the process exit returns the memory.
    std::mem::forget((loaded, facts, report, rendered));
    Ok(if load_errors > 0 {
        2
    } else if failed {
        1
    } else {
        0
    })
}

/// `--probe network`: says what it will create, runs the probe against the endpoint the facts
/// used, and records the outcome as `probe.network` in the report's host section. Returns
/// whether the bridge is broken or something could not be removed.
fn probe_network(probe: &ProbeArgs, facts: &mut Facts) -> Result<bool> {
    use crate::probe::network::{self, Outcome, Plan};
    let Some(uri) = facts.text("docker.endpoint").map(str::to_owned) else {
        facts.host.insert(
            "probe.network".into(),
            "inconclusive: no Docker endpoint was resolved".into(),
        );
        return Ok(false);
    };
    let plan = Plan::new(std::process::id());
    eprintln!("{}", plan.describe(&uri));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (outcome, left) = runtime.block_on(network::run(&uri, &plan, probe.timeout));
    runtime.shutdown_background();
    let summary = outcome.summary();
    eprintln!("dockdoc --probe network: {summary}");
    for thing in &left {
        eprintln!("dockdoc: warning: could not remove {thing}; remove it by hand");
    }
    let mut value = summary;
    if !left.is_empty() {
        value.push_str(&format!("; left behind: {}", left.join(", ")));
    }
    facts.host.insert("probe.network".into(), value);
    Ok(matches!(outcome, Outcome::BridgeBroken(_)) || !left.is_empty())
}

#[derive(serde::Serialize)]
struct ListedCheck<'a> {
    id: &'a str,
    area: &'a str,
    severity: &'a str,
    profiles: &'a [String],
    title: &'a str,
}

fn list(args: ListArgs) -> Result<u8> {
    let loaded = load_catalog(&args.catalog);
    let selected = |c: &catalog::Check| {
        args.profile.is_empty() || catalog::profile_selects(&args.profile, &c.profiles)
    };
    let checks: Vec<ListedCheck<'_>> = loaded
        .catalog
        .checks
        .iter()
        .filter(|c| selected(c))
        .map(|c| ListedCheck {
            id: &c.id,
            area: &c.area,
            severity: c.severity.as_str(),
            profiles: &c.profiles,
            title: &c.title,
        })
        .collect();
    let mut out = Vec::new();
    match args.format {
        CatalogFormat::Json => {
            crate::terminal::write_json(&mut out, &checks)?;
            writeln!(out)?;
        }
        CatalogFormat::Markdown => {
            writeln!(out, "| id | area | severity | profiles | title |")?;
            writeln!(out, "| --- | --- | --- | --- | --- |")?;
            for c in &checks {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    c.id,
                    c.area,
                    c.severity,
                    c.profiles.join(", "),
                    crate::terminal::visible(c.title)
                )?;
            }
        }
        CatalogFormat::Text => {
            let w = checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
            for c in &checks {
                writeln!(
                    out,
                    "{:w$}  {:10}  {:7}  {:30}  {}",
                    c.id,
                    c.area,
                    c.severity,
                    c.profiles.join(","),
                    crate::terminal::visible(c.title)
                )?;
            }
        }
    }
    print(&mut std::io::stdout().lock(), &out)?;
    Ok(if loaded.errors.is_empty() { 0 } else { 2 })
}

/// One line of `dockdoc facts --list --format json`: the schema entry and where it comes from.
#[derive(serde::Serialize)]
struct ListedFact<'a> {
    #[serde(flatten)]
    spec: &'a facts::FactSpec,
    #[serde(flatten)]
    source: Option<facts::Source>,
}

fn facts_command(args: FactsArgs) -> Result<u8> {
    let mut out = Vec::new();
    if args.list {
        let schema: Vec<_> = facts::schema().collect();
        match args.format {
            ListFormat::Json => {
                let listed: Vec<_> = schema
                    .iter()
                    .map(|s| ListedFact {
                        spec: s,
                        source: facts::source_of(s.key),
                    })
                    .collect();
                crate::terminal::write_json(&mut out, &listed)?;
            }
            ListFormat::Text => {
                let w = schema.iter().map(|s| s.key.len()).max().unwrap_or(0);
                for s in &schema {
                    let source = facts::source_of(s.key)
                        .map_or_else(|| "unclassified".to_owned(), |src| src.to_string());
                    writeln!(
                        out,
                        "{:w$}  {:4}  {}\n{:w$}        source: {source}",
                        s.key,
                        s.kind.to_string(),
                        s.doc,
                        ""
                    )?;
                }
            }
        }
        writeln!(out)?;
        print(&mut std::io::stdout().lock(), &out)?;
        return Ok(0);
    }
    // Every optional question: a saved facts file must answer any check it is replayed with.
    let facts = gather(&args.probe, crate::facts::Questions::ALL)?;
    match args.format {
        ListFormat::Json => {
            crate::terminal::write_json(&mut out, &facts)?;
            writeln!(out)?;
        }
        ListFormat::Text => {
            let w = facts.facts.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &facts.facts {
                writeln!(out, "{k:w$}  {}", v.visible())?;
            }
        }
    }
    print(&mut std::io::stdout().lock(), &out)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_asks_what_its_verdict_may_judge() {
        // A paste about the daemon's socket: the verdict may still judge a docker-osx
        // container it touches, libvirt's units, or a unit's result.
        let asks = explain_questions(["docker.connect_error", "systemd.system_bus"]);
        assert!(
            asks.containers && asks.libvirt_units && asks.unit_details,
            "{asks:?}"
        );
        assert!(!asks.min_api_version);
        assert!(explain_questions(["docker.min_api_version"]).min_api_version);
    }
}
