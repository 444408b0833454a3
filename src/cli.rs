//! Command-line definitions. `dockdoc` alone is `dockdoc check --profile docker`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "dockdoc",
    version,
    about = "A doctor for Docker on Arch Linux: finds the pitfall behind the error, with evidence and a fix",
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks of the selected profiles and report problems (the default)
    Check(CheckArgs),
    /// List every check: id, area, severity, profiles, title
    List(ListArgs),
    /// Show a check's documentation, or find the cause of an error message (`--error TEXT`, or
    /// `-` to read it from standard input) and confirm it on this machine
    Explain(ExplainArgs),
    /// Gather the facts the checks read and print them
    Facts(FactsArgs),
    /// Plan the fixes of the failing checks (changes nothing); `--apply` runs them with your
    /// consent and checks again, `--undo` reverts a run
    Fix(FixArgs),
    /// Print the man page or shell completions (used to build the package)
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// Run from a pacman hook; prints a warning only when something is wrong, never fails
    Hook(HookArgs),
}

#[derive(Clone, Debug, Args)]
pub struct HookArgs {
    #[arg(value_enum)]
    pub event: HookEvent,
    /// Read the system under DIR instead of /
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HookEvent {
    /// After a transaction that installed, upgraded or removed a kernel
    KernelUpgrade,
}

#[derive(Clone, Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generated,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Generated {
    /// The man page dockdoc.1, in roff
    Man,
    /// Completions for a shell
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    /// JSON with `schema_version` (its JSON Schema: /usr/share/dockdoc/report.schema.json)
    Json,
    Markdown,
    /// Prometheus text exposition, for node_exporter's textfile collector
    Prometheus,
    /// A monitoring plugin's output (Nagios, Icinga): status line, perfdata, exit 0/1/2/3
    Nagios,
    /// JUnit XML for CI: one test case per check, one test suite per area
    Junit,
}

/// Which failed checks make the exit status 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A failed check of severity error
    Error,
    /// A failed check of severity warning or error
    Warning,
    /// None: exit 0 whatever failed (2 still means dockdoc itself failed)
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    Text,
    Json,
    /// A Markdown table (the index of docs/checks.md is generated from it)
    Markdown,
}

/// Where facts come from: which root to read, which endpoints to contact, how long to wait.
#[derive(Clone, Debug, Args)]
pub struct ProbeArgs {
    /// Give up on each live probe (D-Bus, Docker, X) after this long (at most 1h); the whole
    /// run is bounded by it
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Read every file under DIR instead of / (inspect a mounted or chrooted Arch system),
    /// resolving every path as if DIR were /; live endpoints are then only contacted when
    /// given explicitly
    #[arg(long, value_name = "DIR", value_parser = parse_root)]
    pub root: Option<PathBuf>,
    /// The Docker endpoint to probe (unix:///path or tcp://host:port); default: DOCKER_HOST,
    /// then the CLI context, then unix:///run/docker.sock
    #[arg(long, value_name = "URI")]
    pub docker_host: Option<String>,
    /// The D-Bus system bus address (default: the system's own)
    #[arg(long, value_name = "ADDRESS")]
    pub system_bus: Option<String>,
    /// The D-Bus user bus address, for a rootless daemon under systemd --user
    #[arg(long, value_name = "ADDRESS")]
    pub user_bus: Option<String>,
    /// Do not connect to the Docker socket when that would start docker.service: while
    /// docker.socket listens and the daemon is not running, connecting makes systemd start it
    /// (socket activation); the daemon's own facts are then skipped
    #[arg(long)]
    pub no_activate: bool,
    /// Do not run `dockerd --validate` on daemon.json (a process of about 120 ms, started only
    /// while no running dockerd has accepted the file); dockdoc's key table alone judges it
    #[arg(long)]
    pub no_validate: bool,
}

#[derive(Clone, Debug, Args)]
pub struct OutputArgs {
    /// When to use colour (NO_COLOR is honoured under auto)
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Show evidence, passing, skipped and not-applicable checks
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Clone, Debug, Args)]
pub struct CatalogArgs {
    /// Also load every *.toml check file in DIR (a check with a built-in id replaces it)
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Vec<PathBuf>,
}

#[derive(Clone, Debug, Args)]
pub struct CheckArgs {
    /// Profile to run: docker (default; rootless is added when the CLI uses a rootless daemon), docker-osx, kernel-upgrade, rootless, registry, all; repeatable
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::catalog::PROFILES))]
    pub profile: Vec<String>,
    /// Run only this check; repeatable
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// Report this check as skipped instead of running it; repeatable
    #[arg(long, value_name = "ID")]
    pub skip: Vec<String>,
    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ReportFormat,
    /// Write the report to FILE instead of standard output: a regular or new FILE atomically
    /// (a temporary file in the same directory, flushed, mode 0644, renamed over FILE); a
    /// character device, FIFO or socket is written through; a directory is refused
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a check of this severity or worse failed (waived checks never count);
    /// `--format nagios` exits with the plugin's state instead
    #[arg(long, value_name = "LEVEL", default_value = "error")]
    pub fail_on: FailOn,
    /// Also read waivers from FILE (besides /etc/dockdoc/waivers.toml when it exists)
    #[arg(long, value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Evaluate the facts in FILE (from `dockdoc facts --format json`) instead of gathering them
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Also run an active probe that creates (and then removes) something: `network` imports
    /// an empty image, starts a throwaway container on the default bridge and reports whether
    /// the daemon could create its veth pair. Never runs without this flag
    #[arg(long = "probe", value_name = "NAME", value_parser = ["network"], conflicts_with = "facts")]
    pub probes: Vec<String>,
    #[command(flatten)]
    pub display: OutputArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FixFormat {
    Text,
    /// The plan as data: `causes[]` and `steps[]` (check, command, runs_as, tier, changes, undo)
    Json,
    /// A POSIX shell script of the steps dockdoc may automate (safe and disruptive)
    Shell,
}

#[derive(Clone, Debug, Args)]
pub struct FixArgs {
    /// Profile whose failing checks to fix, as for `check`; repeatable
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::catalog::PROFILES))]
    pub profile: Vec<String>,
    /// Fix only this check; repeatable
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// Leave this check alone; repeatable
    #[arg(long, value_name = "ID")]
    pub skip: Vec<String>,
    /// Output format of the plan
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: FixFormat,
    /// Run the plan: asks for each step on the terminal, backs up the files a step writes,
    /// journals the run, then checks again and shows each check before and after
    #[arg(long, conflicts_with_all = ["undo", "list_runs", "root"])]
    pub apply: bool,
    /// With --apply or --undo: do not ask; accept the safe steps only (never disruptive,
    /// manual or reboot ones)
    #[arg(long)]
    pub yes: bool,
    /// Revert a run: the last one not undone yet, or RUN (see --list-runs); files are restored
    /// from their backups, then the undo commands run, in reverse order
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["list_runs", "root"])]
    pub undo: Option<String>,
    /// List the runs in the journal and whether they can be undone
    #[arg(long)]
    pub list_runs: bool,
    /// When to use colour (NO_COLOR is honoured under auto)
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Clone, Debug, Args)]
pub struct ListArgs {
    /// Only the checks this profile runs
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::catalog::PROFILES))]
    pub profile: Vec<String>,
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: CatalogFormat,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Clone, Debug, Args)]
pub struct ExplainArgs {
    /// A check id to document, or `-` to read error text from standard input
    #[arg(value_name = "ID|-", required_unless_present = "error")]
    pub target: Option<String>,
    /// Error text to explain (what docker, systemctl, qemu or the X client printed)
    #[arg(long, value_name = "TEXT", conflicts_with = "target")]
    pub error: Option<String>,
    /// Only match the text against the checks' patterns; do not look at this machine
    #[arg(long)]
    pub offline: bool,
    /// Decide on the facts in FILE (from `dockdoc facts --format json`) instead of gathering them
    #[arg(long, value_name = "FILE", conflicts_with = "offline")]
    pub facts: Option<PathBuf>,
    /// Profile whose thresholds and checks apply, as for `check`: docker (default; rootless is
    /// added when the CLI talks to a rootless daemon), docker-osx, kernel-upgrade, rootless,
    /// registry, all; repeatable
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::catalog::PROFILES))]
    pub profile: Vec<String>,
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ListFormat,
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Clone, Debug, Args)]
pub struct FactsArgs {
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ListFormat,
    /// List the fact schema (key, type, description) instead of gathering
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// The longest `--timeout`: the whole run is bounded by it, and a deadline is the time now
/// plus the timeout, which must stay a time the clock can hold.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// `--root DIR` must be a directory (a symlink to one will do): a mistyped path or a file is
/// a usage error, not a report on an empty machine.
fn parse_root(s: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let path = PathBuf::from(s);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => Ok(path),
        Ok(meta) => Err(format!(
            "{s} is not a directory (it is {})",
            crate::facts::sysroot::kind_name(rustix::fs::FileType::from_raw_mode(meta.mode()))
        )),
        Err(e) => Err(format!("{s}: {e}")),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 3s or 500ms)"))?;
    if d.is_zero() {
        return Err("the timeout must be more than zero".into());
    }
    if d > MAX_TIMEOUT {
        return Err(format!(
            "the timeout must be at most {}",
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(d)
}
