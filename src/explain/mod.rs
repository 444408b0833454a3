//! `dockdoc explain`: a check's documentation (`explain ID`, like `ruff rule` and
//! `clippy --explain`), or the cause of an error message (`explain --error TEXT`, `explain -`).
//!
//! One file per job, in the order the text flows:
//! - [`doc`]: a check's documentation;
//! - [`paste`]: reading and normalising a paste (escapes, line ends, `\` continuations);
//! - [`systemctl`]: systemctl's status and `is-enabled` lines, given the unit they are about;
//! - [`prefilter`] and [`matcher`]: a skipping search for the literals every match holds picks out
//!   the few lines worth matching, and a set of the patterns those literals belong to decides
//!   them;
//! - [`verdict`]: the matched checks, evaluated on facts the caller gathered, ranked, and the
//!   verdict over them.
//!
//! Nothing here gathers: the caller ([`crate::app`]) gathers the facts when [`recognise`] found
//! something and hands them to [`report`].

mod doc;
mod endpoint;
mod matcher;
mod paste;
mod prefilter;
mod signals;
mod systemctl;
mod verdict;

#[cfg(test)]
mod tests;

use std::io::Write;

use anstyle::{AnsiColor, Style};
use anyhow::{Result, bail};

use crate::catalog::Catalog;
use crate::cli::{ColorChoice, ExplainArgs, ListFormat};
use crate::eval::Selection;
use crate::facts::Facts;

pub use doc::render_text;
pub use matcher::{Match, Matcher, Scan};
pub use paste::{logical_lines, normalise, readings};
pub use signals::{Read, Reader, Tie};

/// One of explain's own patterns, compiled into `cell` the first time it is asked for; `None`
/// if it does not compile.
pub(super) fn compiled(
    cell: &'static std::sync::OnceLock<Option<regex::Regex>>,
    pattern: &str,
) -> Option<&'static regex::Regex> {
    cell.get_or_init(|| regex::Regex::new(pattern).ok())
        .as_ref()
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();

fn stream(color: ColorChoice) -> anstream::AutoStream<std::io::Stdout> {
    let choice = match color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    anstream::AutoStream::new(std::io::stdout(), choice)
}

/// The text to explain: given with `--error`, or read from standard input (`-`).
pub enum Input<'a> {
    Text(&'a str),
    Stdin,
}

/// The text `args` asks to explain; `None` when they name a check to document instead.
pub fn input(args: &ExplainArgs) -> Option<Input<'_>> {
    if let Some(text) = &args.error {
        return Some(Input::Text(text));
    }
    (args.target.as_deref() == Some("-")).then_some(Input::Stdin)
}

/// `dockdoc explain ID`: prints the check's documentation as text or JSON.
///
/// # Errors
/// No check has the id, or standard output cannot be written.
pub fn document(catalog: &Catalog, args: &ExplainArgs) -> Result<u8> {
    let mut out = stream(args.color);
    let id = args.target.as_deref().unwrap_or_default();
    let Some(check) = catalog.get(id) else {
        bail!("no check has the id `{id}` (see `dockdoc list`)");
    };
    match args.format {
        ListFormat::Text => render_text(check, &mut out)?,
        ListFormat::Json => {
            crate::terminal::write_json(&mut out, &doc::doc(check))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(0)
}

/// What explain recognised in a text: the checks whose `explains` patterns matched, and the
/// signals it holds ([`signals`]).
pub struct Recognised {
    pub matches: Vec<Match>,
    pub signals: Read,
}

impl Recognised {
    /// The checks a verdict evaluates: those matched or tied by signals, and the checks
    /// they name as their causes (`consequence_of`), by catalog index.
    pub fn checks(&self, catalog: &Catalog) -> Vec<usize> {
        let vocabulary = crate::catalog::signals::Vocabulary::builtin();
        let mut out: Vec<usize> = self.matches.iter().map(|m| m.check).collect();
        out.extend(
            self.signals
                .ties(vocabulary, catalog)
                .into_iter()
                .map(|(i, _)| i),
        );
        let mut k = 0;
        while let Some(&i) = out.get(k) {
            for cause in catalog.checks.get(i).map_or(&[][..], |c| &c.consequence_of) {
                if let Some(j) = catalog.checks.iter().position(|c| &c.id == cause)
                    && !out.contains(&j)
                {
                    out.push(j);
                }
            }
            k += 1;
        }
        out
    }

    /// Nothing to judge: no pattern matched and no signal ties a check.
    pub fn is_empty(&self, catalog: &Catalog) -> bool {
        self.matches.is_empty() && self.checks(catalog).is_empty()
    }
}

/// Matches the text against every check's `explains` patterns (one entry per matched check, in
/// order of first match) and reads its signals. A paste (up to 64 KiB) is also matched with its
/// hard-wrapped lines rejoined; a longer log is read from standard input in blocks, never whole,
/// and its signals are read from its last 64 KiB and the lines the patterns matched.
///
/// # Errors
/// Standard input cannot be read, or is larger than 64 MiB.
pub fn recognise(catalog: &Catalog, input: Input<'_>) -> Result<Recognised> {
    let matcher = Matcher::new(catalog)?;
    let reader = Reader::new(crate::catalog::signals::Vocabulary::builtin());
    let (matches, mut signals) = match input {
        Input::Text(text) if text.len() <= paste::PASTE_BYTES => {
            let text = paste::normalised(text);
            (matcher.scan_paste(&text), reader.read(&text, 1))
        }
        Input::Text(text) => {
            let text = paste::normalised(text);
            let (tail, first) = paste::tail(&text);
            (matcher.scan(&text), reader.read(tail, first))
        }
        Input::Stdin => {
            let (matches, tail, first) = paste::scan_stdin(&matcher, std::io::stdin().lock())?;
            (matches, reader.read(&tail, first))
        }
    };
    for m in &matches {
        signals.merge(reader.read(&m.text, m.line));
    }
    Ok(Recognised { matches, signals })
}

/// Prints what the matches mean on this machine: each matched check evaluated on `facts`
/// (`None` with `--offline`: not evaluated) with the thresholds of the profiles `check` would
/// select ([`crate::eval::profiles`]), the checks that fail here in a matched one's area, ranked, and the
/// verdict. A socket path in the paste rules out the checks of other kinds of daemon.
///
/// # Errors
/// Standard output cannot be written.
pub fn report(
    catalog: &Catalog,
    args: &ExplainArgs,
    recognised: Recognised,
    facts: Option<&Facts>,
) -> Result<u8> {
    let mut out = stream(args.color);
    let profiles = crate::eval::profiles(&args.profile, facts);
    let selection = Selection {
        profiles,
        only: Vec::new(),
        skip: Vec::new(),
    };
    let vocabulary = crate::catalog::signals::Vocabulary::builtin();
    let (candidates, reading, context) = verdict::candidates(
        catalog,
        vocabulary,
        recognised,
        facts,
        &selection,
        args.offline,
    );
    let v = verdict::verdict(&candidates, &context, args.offline, facts);
    let elsewhere = facts.and_then(|f| endpoint::elsewhere(reading, f));
    match args.format {
        ListFormat::Json => {
            verdict::render_json(&candidates, &context, v, elsewhere.as_deref(), &mut out)?
        }
        ListFormat::Text => {
            verdict::render_explanation(
                &candidates,
                reading,
                &context,
                &v,
                args.offline,
                &mut out,
            )?;
            if let Some(note) = &elsewhere {
                writeln!(
                    out,
                    "{YELLOW}Note:{YELLOW:#} {}",
                    crate::terminal::visible(note)
                )?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}
