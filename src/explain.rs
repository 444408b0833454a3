//! `dockdoc explain`: a check's documentation (`explain ID`, like `ruff rule` and
//! `clippy --explain`), or the cause of an error message (`explain --error TEXT`, `explain -`).
//!
//! Error text is matched against every check's `explains` patterns: a skipping search for the
//! literals every match holds picks out the few lines worth matching, and a [`RegexSet`] of the
//! patterns those literals belong to decides them. The matched checks are then evaluated on this
//! machine (same probes, same options), so the candidate that actually fails here comes first
//! and the others are shown as ruled out, with their evidence.

use std::io::{Read, Write};
use std::ops::ControlFlow;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, bail};
use regex::{Regex, RegexSet};
use regex_syntax::hir::{Class, Hir, HirKind};
use serde::Serialize;

use crate::catalog::{Catalog, Check, FixStep, Severity};
use crate::cli::{ColorChoice, ExplainArgs, ListFormat};
use crate::eval::{self, Selection};
use crate::facts::Facts;
use crate::finding::{Finding, Status};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();

/// Explain input larger than this is refused: 64 MiB of terminal scroll-back is plenty.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Serialize)]
struct Doc<'a> {
    id: &'a str,
    area: &'a str,
    title: &'a str,
    severity: &'a str,
    profiles: &'a [String],
    why: &'a str,
    fix: &'a [FixStep],
    explains: Vec<&'a str>,
    references: &'a [String],
    defined_at: String,
}

fn doc(c: &Check) -> Doc<'_> {
    Doc {
        id: &c.id,
        area: &c.area,
        title: &c.title,
        severity: c.severity.as_str(),
        profiles: &c.profiles,
        why: &c.why,
        fix: &c.fix,
        explains: c.explains.iter().map(|r| r.as_str()).collect(),
        references: &c.references,
        defined_at: c.origin.to_string(),
    }
}

/// Renders one check's documentation as text.
pub fn render_text(c: &Check, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}{}{BOLD:#} ({} {}, profiles: {})",
        c.id,
        c.area,
        c.severity,
        c.profiles.join(", ")
    )?;
    writeln!(out, "{}", c.title)?;
    writeln!(out, "\n{BOLD}Why{BOLD:#}\n")?;
    for line in c.why.lines() {
        writeln!(out, "  {line}")?;
    }
    if !c.fix.is_empty() {
        writeln!(out, "\n{BOLD}Fix{BOLD:#}\n")?;
        for (i, f) in c.fix.iter().enumerate() {
            writeln!(out, "  {}. {}", i + 1, f.step)?;
            if let Some(cmd) = &f.command {
                writeln!(out, "       {cmd}")?;
            }
        }
    }
    if !c.explains.is_empty() {
        writeln!(out, "\n{BOLD}Explains errors like{BOLD:#}\n")?;
        for r in &c.explains {
            writeln!(out, "  /{}/", r.as_str())?;
        }
    }
    if !c.references.is_empty() {
        writeln!(out, "\n{BOLD}References{BOLD:#}\n")?;
        for r in &c.references {
            writeln!(out, "  {r}")?;
        }
    }
    Ok(())
}

fn stream(color: ColorChoice) -> anstream::AutoStream<std::io::Stdout> {
    let choice = match color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    anstream::AutoStream::new(std::io::stdout(), choice)
}

/// Prepares pasted text for matching: ANSI escapes removed, CRLF and lone CR made newlines. Line
/// numbers are those of the paste. Shell `\` continuations are joined later, line by line, by
/// [`logical_lines`].
pub fn normalise(text: &str) -> String {
    normalised(text).into_owned()
}

/// [`normalise`], borrowing text that has neither escapes nor carriage returns.
fn normalised(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    // Compiling the escape regex costs more than looking for an escape byte.
    let plain = match ansi().filter(|_| memchr::memchr(0x1b, text.as_bytes()).is_some()) {
        Some(re) => re.replace_all(text, ""),
        None => Cow::Borrowed(text),
    };
    if memchr::memchr(b'\r', plain.as_bytes()).is_none() {
        return plain;
    }
    let mut out = String::with_capacity(plain.len());
    let mut rest: &str = &plain;
    // One pass: copy up to each CR, then a single newline for CRLF or a lone CR.
    while let Some(i) = rest.find('\r') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        out.push('\n');
        let tail = tail.strip_prefix('\r').unwrap_or(tail);
        rest = tail.strip_prefix('\n').unwrap_or(tail);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `head` (a line without its final `\`) joined by spaces with the lines that continue it: up to
/// and including the first that does not end in `\`.
fn join_continued<'a>(head: &str, rest: impl Iterator<Item = &'a str>) -> String {
    let mut joined = String::from(head);
    for next in rest {
        joined.push(' ');
        match next.strip_suffix('\\') {
            Some(more) => joined.push_str(more),
            None => {
                joined.push_str(next);
                break;
            }
        }
    }
    joined
}

/// The lines of normalised text with shell `\` continuations joined, so a wrapped
/// `docker run … \` command is one line; each comes with the number (from 1) of its first
/// physical line. Lines without a continuation are borrowed, not copied.
pub fn logical_lines(text: &str) -> impl Iterator<Item = (usize, std::borrow::Cow<'_, str>)> {
    use std::borrow::Cow;
    let mut lines = text.lines().enumerate();
    std::iter::from_fn(move || {
        let (n, line) = lines.next()?;
        let Some(head) = line.strip_suffix('\\') else {
            return Some((n + 1, Cow::Borrowed(line)));
        };
        Some((
            n + 1,
            Cow::Owned(join_continued(head, lines.by_ref().map(|(_, l)| l))),
        ))
    })
}

fn ansi() -> Option<&'static Regex> {
    static ANSI: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    ANSI.get_or_init(|| {
        // CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), and the
        // two-byte escapes.
        Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]").ok()
    })
    .as_ref()
}

/// One check whose patterns matched: where first, and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub check: usize,
    pub line: usize,
    pub text: String,
    pub count: usize,
}

/// The patterns of every check, and a literal prefilter over them.
///
/// Compiling the set of every pattern costs more than scanning megabytes of log, and most logs
/// hold no error any check knows. So the text is first searched once for literals that every
/// match must contain; only lines holding one are matched, against a set compiled from just the
/// patterns whose literals they hold. The result is the same as matching every line against
/// every pattern.
pub struct Matcher {
    patterns: Vec<String>,
    /// For each pattern, the index of its check in the catalog.
    owner: Vec<usize>,
    /// `None` when some pattern has no literal every match contains: then every line is matched.
    prefilter: Option<Prefilter>,
}

/// Literals, compared ignoring ASCII case, such that a line matching pattern `p` contains one of
/// the literals owned by `p`.
struct Prefilter {
    literals: Literals,
    /// For each literal, the pattern it was drawn from.
    owner: Vec<usize>,
}

impl Matcher {
    pub fn new(catalog: &Catalog) -> Result<Matcher> {
        let mut patterns = Vec::new();
        let mut hirs = Vec::new();
        let mut owner = Vec::new();
        for (i, c) in catalog.checks.iter().enumerate() {
            for r in &c.explains {
                patterns.push(r.as_str().to_owned());
                hirs.push(r.hir());
                owner.push(i);
            }
        }
        Ok(Matcher::with_patterns(patterns, &hirs, owner))
    }

    /// Patterns, parsed, each with the index of its check.
    fn with_patterns(patterns: Vec<String>, hirs: &[Option<&Hir>], owner: Vec<usize>) -> Matcher {
        let prefilter = Prefilter::new(hirs);
        Matcher {
            patterns,
            owner,
            prefilter,
        }
    }

    /// Matches every line once; returns one entry per matched check, in order of first match.
    pub fn scan(&self, text: &str) -> Vec<Match> {
        let mut scan = Scan::new(self);
        scan.feed(text);
        scan.finish()
    }

    /// [`Matcher::scan`] without the prefilter: every line against every pattern.
    #[cfg(test)]
    fn scan_every_line(&self, text: &str) -> Vec<Match> {
        match self.compile(0..self.patterns.len()) {
            Some(set) => tally(logical_lines(text), &set),
            None => Vec::new(),
        }
    }

    /// A set of the given patterns (ascending), each mapped back to its check.
    fn compile(&self, wanted: impl IntoIterator<Item = usize>) -> Option<SubSet> {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for p in wanted {
            patterns.push(self.patterns.get(p)?.as_str());
            owner.push(*self.owner.get(p)?);
        }
        // Patterns are checked when the catalog loads; a set over the regex size limit matches
        // nothing, as an oversized `Pattern` does.
        let set = RegexSet::new(&patterns).ok()?;
        Some(SubSet { set, owner })
    }
}

/// A scan fed text a run of whole lines at a time, as it is read: the same matches as
/// [`Matcher::scan`] over all of it.
pub struct Scan<'m> {
    matcher: &'m Matcher,
    /// Lines fed so far.
    lines: usize,
    pending: Pending,
}

enum Pending {
    /// The lines that hold a literal (owned: their text is gone by the end), and the patterns
    /// whose literals they hold.
    Candidates(Vec<(usize, String)>, std::collections::BTreeSet<usize>),
    /// Without a prefilter: the set of all patterns, and the matches so far.
    Every(Option<SubSet>, Vec<Match>),
}

impl<'m> Scan<'m> {
    pub fn new(matcher: &'m Matcher) -> Scan<'m> {
        let pending = match matcher.prefilter {
            Some(_) => Pending::Candidates(Vec::new(), std::collections::BTreeSet::new()),
            None => Pending::Every(matcher.compile(0..matcher.patterns.len()), Vec::new()),
        };
        Scan {
            matcher,
            lines: 0,
            pending,
        }
    }

    /// Scans whole lines of normalised text; the last one is not continued by the next feed.
    pub fn feed(&mut self, text: &str) {
        let before = self.lines;
        match (&mut self.pending, &self.matcher.prefilter) {
            (Pending::Candidates(lines, wanted), Some(pre)) => {
                self.lines += pre.candidates(text, |n, line, patterns| {
                    lines.push((before + n, line.into_owned()));
                    wanted.extend(patterns);
                });
            }
            (Pending::Every(set, found), _) => {
                self.lines += text.lines().count();
                let Some(set) = set else {
                    return;
                };
                let more = tally(logical_lines(text).map(|(n, l)| (before + n, l)), set);
                for m in more {
                    match found.iter_mut().find(|f| f.check == m.check) {
                        Some(f) => f.count += m.count,
                        None => found.push(m),
                    }
                }
            }
            (Pending::Candidates(..), None) => {}
        }
    }

    /// One entry per matched check, in order of first match.
    pub fn finish(self) -> Vec<Match> {
        match self.pending {
            Pending::Candidates(lines, wanted) => {
                if lines.is_empty() {
                    return Vec::new();
                }
                match self.matcher.compile(wanted) {
                    Some(set) => tally(
                        lines
                            .into_iter()
                            .map(|(n, l)| (n, std::borrow::Cow::Owned(l))),
                        &set,
                    ),
                    None => Vec::new(),
                }
            }
            Pending::Every(_, found) => found,
        }
    }
}

/// A compiled set over some of the patterns, each mapped to its check.
struct SubSet {
    set: RegexSet,
    owner: Vec<usize>,
}

/// Matches each line (its head) against the set; one entry per matched check, in order of first
/// match.
fn tally<'t>(
    lines: impl Iterator<Item = (usize, std::borrow::Cow<'t, str>)>,
    sub: &SubSet,
) -> Vec<Match> {
    let mut found: Vec<Match> = Vec::new();
    for (n, line) in lines {
        let line: &str = line_head(&line);
        // Ask the set yes/no first (no allocation), and only then which patterns.
        if !sub.set.is_match(line) {
            continue;
        }
        let hits = sub.set.matches(line);
        let mut checks: Vec<usize> = hits
            .iter()
            .filter_map(|p| sub.owner.get(p).copied())
            .collect();
        checks.dedup();
        for check in checks {
            match found.iter_mut().find(|m| m.check == check) {
                Some(m) => m.count += 1,
                None => found.push(Match {
                    check,
                    line: n,
                    text: line.trim().chars().take(300).collect(),
                    count: 1,
                }),
            }
        }
    }
    found
}

impl Prefilter {
    /// `None` when a pattern does not parse or has no required literal, or the shortest is
    /// too short to skip with: the caller then matches every line.
    fn new(patterns: &[Option<&Hir>]) -> Option<Prefilter> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        for (i, hir) in patterns.iter().enumerate() {
            let required = required_literals((*hir)?)?;
            // A literal holding a newline never occurs in a line, so a pattern requiring it
            // matches no line: it needs no literal in the search.
            for lit in required.into_iter().filter(|l| !l.contains(&b'\n')) {
                literals.push(lit);
                owner.push(i);
            }
        }
        let literals = Literals::new(literals)?;
        Some(Prefilter { literals, owner })
    }

    /// Calls `found(number, line, patterns)` for each logical line that holds a literal, with the
    /// patterns whose literals it holds; returns the number of physical lines. A line continued
    /// with `\` is searched once joined.
    fn candidates<'t>(
        &self,
        text: &'t str,
        mut found: impl FnMut(usize, std::borrow::Cow<'t, str>, &[usize]),
    ) -> usize {
        use std::borrow::Cow;
        let mut patterns = Vec::new();
        // Where the next literal in the text starts (past every line already passed).
        let mut next_hit = self.find_from(text, 0);
        let mut physical = PhysicalLines::new(text);
        while let Some((n, start, line)) = physical.next() {
            let logical: Cow<'t, str> = match line.strip_suffix('\\') {
                Some(head) => Cow::Owned(physical.join_continued(head)),
                None => {
                    // `line` lies within the text: a hit before its end is in it.
                    let end = start + line.len();
                    if next_hit.is_none_or(|h| h >= end) {
                        continue;
                    }
                    Cow::Borrowed(line)
                }
            };
            patterns.clear();
            self.literals
                .scan(line_head(&logical).as_bytes(), 0, |_, literal| {
                    patterns.extend(self.owner.get(literal));
                    ControlFlow::Continue(())
                });
            if !patterns.is_empty() {
                found(n, logical, &patterns);
            }
            next_hit = self.find_from(text, physical.offset());
        }
        physical.n
    }

    /// The start of the first literal at or after `from`.
    fn find_from(&self, text: &str, from: usize) -> Option<usize> {
        let mut first = None;
        self.literals.scan(text.as_bytes(), from, |start, _| {
            first = Some(start);
            ControlFlow::Break(())
        });
        first
    }
}

/// How many bytes at the end of the window pick its shift: three, since two-byte blocks
/// ("t ", "er") end some literal's window at most positions of English text.
const BLOCK: usize = 3;

/// A set of literals compared ignoring ASCII case, searched Wu–Manber style: a window as long as
/// the shortest literal slides over the text, and its last three bytes say how far it can move
/// before a literal could start in it. On text that holds none of them (a log's chatter), most
/// bytes are never looked at.
struct Literals {
    /// Lower-cased.
    literals: Vec<Vec<u8>>,
    /// The window: the length of the shortest literal, at most `u8::MAX`.
    window: usize,
    /// For each block (three bytes, hashed), how far the window can move when it ends with it;
    /// blocks that share a slot share the smaller shift.
    shift: Vec<u8>,
    /// (block, literal) for each literal whose window-long head ends with the block, by block.
    ends: Vec<(usize, usize)>,
}

impl Literals {
    /// `None` when the shortest literal is too short for the window to move fast: matching
    /// every line is then as quick.
    fn new(literals: Vec<Vec<u8>>) -> Option<Literals> {
        let literals: Vec<Vec<u8>> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        let window = literals
            .iter()
            .map(Vec::len)
            .min()
            .unwrap_or(usize::from(u8::MAX))
            .min(usize::from(u8::MAX));
        if window < BLOCK + 1 {
            return None;
        }
        let far = u8::try_from(window - BLOCK + 1).ok()?;
        let mut shift = vec![far; 1 << 16];
        let mut ends = Vec::new();
        for (i, lit) in literals.iter().enumerate() {
            let head = lit.get(..window)?;
            for (at, pair) in head.windows(BLOCK).enumerate() {
                let &[a, b, c] = pair else {
                    continue;
                };
                // The block ends `at + BLOCK` bytes into the head.
                let gap = u8::try_from(window - (at + BLOCK)).ok()?;
                // Every case of the block gets the shift, so the scan need not fold case.
                for a in cases(a) {
                    for b in cases(b) {
                        for c in cases(c) {
                            let block = block(a, b, c);
                            let slot = shift.get_mut(block)?;
                            *slot = (*slot).min(gap);
                            if gap == 0 {
                                ends.push((block, i));
                            }
                        }
                    }
                }
            }
        }
        ends.sort_unstable();
        ends.dedup();
        Some(Literals {
            literals,
            window,
            shift,
            ends,
        })
    }

    /// Calls `hit(start, literal)` for each literal found starting at or after `from`, in order of
    /// start, until it breaks.
    fn scan(&self, hay: &[u8], from: usize, mut hit: impl FnMut(usize, usize) -> ControlFlow<()>) {
        // `end`: one past the window's last byte.
        let mut end = from.saturating_add(self.window);
        while end <= hay.len() {
            let Some(&[a, b, c]) = hay.get(end - BLOCK..end) else {
                return;
            };
            let block = block(a, b, c);
            let step = self.shift.get(block).copied().unwrap_or(1);
            if step > 0 {
                end += usize::from(step);
                continue;
            }
            let start = end - self.window;
            let first = self.ends.partition_point(|&(k, _)| k < block);
            for &(_, i) in self
                .ends
                .iter()
                .skip(first)
                .take_while(|&&(k, _)| k == block)
            {
                let Some(lit) = self.literals.get(i) else {
                    continue;
                };
                let found = hay
                    .get(start..start + lit.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(lit));
                if found && hit(start, i).is_break() {
                    return;
                }
            }
            end += 1;
        }
    }
}

/// The slot of three bytes in the shift table (a multiplicative hash).
fn block(a: u8, b: u8, c: u8) -> usize {
    let key = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// A lower-cased byte and, for a letter, its upper case.
fn cases(b: u8) -> impl Iterator<Item = u8> {
    let upper = b.to_ascii_uppercase();
    std::iter::once(b).chain((upper != b).then_some(upper))
}
/// The lines of text as [`str::lines`] splits them, each with its number (from 1) and the
/// offset where it starts.
struct PhysicalLines<'t> {
    text: &'t str,
    pos: usize,
    n: usize,
}

impl<'t> PhysicalLines<'t> {
    fn new(text: &'t str) -> PhysicalLines<'t> {
        PhysicalLines { text, pos: 0, n: 0 }
    }

    /// Where the next line starts.
    fn offset(&self) -> usize {
        self.pos
    }

    fn next(&mut self) -> Option<(usize, usize, &'t str)> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                self.pos += i + 1;
                let line = rest.get(..i).unwrap_or_default();
                line.strip_suffix('\r').unwrap_or(line)
            }
            None => {
                self.pos = self.text.len();
                rest
            }
        };
        self.n += 1;
        Some((self.n, start, line))
    }

    /// `head` (a line without its final `\`) joined with the lines that continue it, as
    /// [`logical_lines`] joins them.
    fn join_continued(&mut self, head: &str) -> String {
        join_continued(head, std::iter::from_fn(|| self.next().map(|(_, _, l)| l)))
    }
}

/// Literals, one of which every match of `hir` contains (compared ignoring ASCII case, which only
/// widens the filter); `None` when there is no such set.
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Class(class) => class_byte(class).map(|b| vec![vec![b]]),
        HirKind::Capture(cap) => required_literals(&cap.sub),
        HirKind::Repetition(rep) if rep.min > 0 => required_literals(&rep.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for alt in alts {
                all.extend(required_literals(alt)?);
            }
            Some(all)
        }
        HirKind::Concat(items) => {
            // Every item is required: keep the best of the runs of fixed bytes and of the items'
            // own literal sets.
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut keep = |set: Vec<Vec<u8>>| {
                if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
                    best = Some(set);
                }
            };
            let mut run: Vec<u8> = Vec::new();
            for item in items {
                match fixed_bytes(item) {
                    Some(bytes) => run.extend_from_slice(&bytes),
                    None => {
                        if !run.is_empty() {
                            keep(vec![std::mem::take(&mut run)]);
                        }
                        if let Some(set) = required_literals(item) {
                            keep(set);
                        }
                    }
                }
            }
            if !run.is_empty() {
                keep(vec![run]);
            }
            best
        }
        _ => None,
    }
    .filter(|set| set.iter().all(|l| !l.is_empty()))
}

/// Longer shortest literal first (fewer false candidates), then fewer literals.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(set.len()))
}

/// The bytes an item always matches, up to ASCII case.
fn fixed_bytes(hir: &Hir) -> Option<Vec<u8>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(lit.0.to_vec()),
        HirKind::Class(class) => class_byte(class).map(|b| vec![b]),
        _ => None,
    }
}

/// The one ASCII byte a class matches up to ASCII case: `[a]` or `[Aa]`. Not `(?i)k`, which
/// also matches the Kelvin sign.
fn class_byte(class: &Class) -> Option<u8> {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    let mut chars: Vec<u32> = Vec::new();
    for (start, end) in ranges {
        if chars.len() as u64 + u64::from(end - start) >= 2 {
            return None;
        }
        chars.extend(start..=end);
    }
    let bytes: Vec<u8> = chars
        .iter()
        .map(|&c| u8::try_from(c).ok().filter(u8::is_ascii))
        .collect::<Option<_>>()?;
    match bytes.as_slice() {
        [b] => Some(*b),
        [a, b] if a.eq_ignore_ascii_case(b) => Some(a.to_ascii_lowercase()),
        _ => None,
    }
}

/// Error messages are short; a longer "line" is binary junk or a minified blob. Matching only
/// its head keeps pasted garbage from stalling the regex set.
const MAX_LINE_BYTES: usize = 8 * 1024;

fn line_head(line: &str) -> &str {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.get(..end).unwrap_or_default()
}

/// A matched check with its status on this machine (None: not evaluated, `--offline`).
struct Candidate<'a> {
    check: &'a Check,
    matched: Match,
    finding: Option<Finding>,
}

impl Candidate<'_> {
    fn status(&self) -> &'static str {
        self.finding
            .as_ref()
            .map_or("not_run", |f| f.status.as_str())
    }

    /// Lower ranks first: failing (by severity), then undecided, then ruled out.
    fn rank(&self) -> (u8, u8) {
        let sev = match self.check.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let st = match self.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail) => 0,
            None => 1,
            Some(Status::Unknown) => 2,
            Some(Status::Skipped) => 3,
            Some(Status::NotApplicable) => 4,
            Some(Status::Pass) => 5,
        };
        (st, sev)
    }
}

#[derive(Serialize)]
struct JsonMatch<'a> {
    id: &'a str,
    title: &'a str,
    line: usize,
    text: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    id: Option<&'a str>,
    reason: String,
}

#[derive(Serialize)]
struct JsonExplain<'a> {
    schema_version: u32,
    matches: Vec<JsonMatch<'a>>,
    verdict: JsonVerdict<'a>,
}

/// The text to explain: given with `--error`, or read from standard input (`-`).
enum Input<'a> {
    Text(&'a str),
    Stdin,
}

fn input(args: &ExplainArgs) -> Option<Input<'_>> {
    if let Some(text) = &args.error {
        return Some(Input::Text(text));
    }
    (args.target.as_deref() == Some("-")).then_some(Input::Stdin)
}

/// Input is read this much at a time, and scanned a run of whole lines at a time, so a long log
/// is never held whole.
const READ_BLOCK: usize = 256 * 1024;

/// Reads and scans `input` as [`Matcher::scan`] scans its whole text, normalised.
///
/// Normalising is local to lines, apart from `\` continuations (a run of lines is never cut
/// inside one) and escape sequences (an OSC title runs to its terminator, lines away): from the
/// first escape byte on, the rest is read and normalised in one piece.
fn scan_input(matcher: &Matcher, mut input: impl Read) -> Result<Vec<Match>> {
    let mut scan = Scan::new(matcher);
    let mut buf = vec![0u8; READ_BLOCK];
    let mut filled = 0;
    let mut total: u64 = 0;
    let mut whole = false;
    loop {
        if filled == buf.len() {
            // A line (or a run of continued lines) longer than the buffer, or the rest after an
            // escape.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match input.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("cannot read standard input"),
        };
        filled += n;
        total += n as u64;
        if total > MAX_INPUT_BYTES {
            bail!(
                "the input is larger than {MAX_INPUT_BYTES} bytes; paste the part around the error"
            );
        }
        if whole {
            continue;
        }
        let read = buf.get(..filled).unwrap_or_default();
        let Some(cut) = last_line_end(read) else {
            continue;
        };
        let lines = lossy(read.get(..cut).unwrap_or_default());
        if memchr::memchr(0x1b, lines.as_bytes()).is_some() {
            whole = true;
            continue;
        }
        scan.feed(&normalised(&lines));
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
    let rest = lossy(buf.get(..filled).unwrap_or_default());
    scan.feed(&normalised(&rest));
    Ok(scan.finish())
}

/// [`String::from_utf8_lossy`], quicker on valid UTF-8 (nearly every log).
fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Where the last complete line of `read` ends (past its newline), unless a `\` continues it
/// (then the one before).
fn last_line_end(read: &[u8]) -> Option<usize> {
    let mut end = read.len();
    loop {
        let nl = memchr::memrchr(b'\n', read.get(..end)?)?;
        let line = read.get(..nl)?;
        // A CR before the newline is part of a CRLF, not of the line.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.ends_with(b"\\") {
            return Some(nl + 1);
        }
        end = nl;
    }
}

/// The verdict over ranked candidates: the first failing check, or why there is none.
fn verdict<'a>(ranked: &[Candidate<'a>], offline: bool) -> JsonVerdict<'a> {
    match ranked.first() {
        None => JsonVerdict {
            id: None,
            reason:
                "no check recognises this text; run `dockdoc check` to look for problems anyway"
                    .into(),
        },
        Some(_) if offline => JsonVerdict {
            id: ranked
                .first()
                .map(|c| c.check.id.as_str())
                .filter(|_| ranked.len() == 1),
            reason: if ranked.len() == 1 {
                "one check recognises this text (not confirmed on this machine: --offline)".into()
            } else {
                format!(
                    "{} checks recognise this text; run without --offline to let this machine decide",
                    ranked.len()
                )
            },
        },
        Some(first)
            if first
                .finding
                .as_ref()
                .is_some_and(|f| f.status == Status::Fail) =>
        {
            JsonVerdict {
                id: Some(first.check.id.as_str()),
                reason: first
                    .finding
                    .as_ref()
                    .map_or_else(String::new, |f| f.summary.clone()),
            }
        }
        Some(_) => {
            let undecided = ranked
                .iter()
                .filter(|c| {
                    matches!(
                        c.finding.as_ref().map(|f| f.status),
                        Some(Status::Unknown | Status::Skipped)
                    )
                })
                .count();
            JsonVerdict {
                id: None,
                reason: if undecided > 0 {
                    format!(
                        "no matching check fails on this machine, but {undecided} could not be decided here (see below)"
                    )
                } else {
                    "every matching check passes on this machine: the cause is elsewhere, or the error came from another machine".into()
                },
            }
        }
    }
}

pub fn run(catalog: &Catalog, args: &ExplainArgs) -> Result<u8> {
    let mut out = stream(args.color);
    let Some(input) = input(args) else {
        let id = args.target.as_deref().unwrap_or_default();
        let Some(check) = catalog.get(id) else {
            bail!("no check has the id `{id}` (see `dockdoc list`)");
        };
        match args.format {
            ListFormat::Text => render_text(check, &mut out)?,
            ListFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &doc(check))?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        return Ok(0);
    };

    let matcher = Matcher::new(catalog)?;
    let matches = match input {
        Input::Text(text) => matcher.scan(&normalised(text)),
        Input::Stdin => scan_input(&matcher, std::io::stdin().lock())?,
    };
    let facts: Option<Facts> = if args.offline || matches.is_empty() {
        None
    } else {
        let wanted: Vec<&str> = matches
            .iter()
            .filter_map(|m| catalog.checks.get(m.check))
            .flat_map(|c| c.fact_keys())
            .collect();
        Some(crate::app::gather(&args.probe, &wanted)?)
    };
    let selection = Selection {
        profiles: vec!["all".into()],
        only: Vec::new(),
        skip: Vec::new(),
    };
    let mut candidates: Vec<Candidate<'_>> = matches
        .into_iter()
        .filter_map(|m| {
            let check = catalog.checks.get(m.check)?;
            let finding = facts.as_ref().map(|f| {
                let mut f = f.clone();
                f.set(
                    "run.profiles",
                    crate::facts::Fact::known(selection.profiles.clone()),
                );
                eval::evaluate_check(check, &f, false)
            });
            Some(Candidate {
                check,
                matched: m,
                finding,
            })
        })
        .collect();
    candidates.sort_by_key(|c| c.rank());
    let v = verdict(&candidates, args.offline);

    match args.format {
        ListFormat::Json => {
            let doc = JsonExplain {
                schema_version: 1,
                matches: candidates
                    .iter()
                    .map(|c| JsonMatch {
                        id: &c.check.id,
                        title: &c.check.title,
                        line: c.matched.line,
                        text: &c.matched.text,
                        status: c.status(),
                    })
                    .collect(),
                verdict: v,
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ListFormat::Text => render_explanation(&candidates, &v, args.offline, &mut out)?,
    }
    out.flush()?;
    Ok(0)
}

fn render_explanation(
    candidates: &[Candidate<'_>],
    v: &JsonVerdict<'_>,
    offline: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if candidates.is_empty() {
        writeln!(out, "No check recognises this text.")?;
        writeln!(
            out,
            "Run `dockdoc check` (or `dockdoc check --profile all`) to look for problems anyway."
        )?;
        return Ok(());
    }
    writeln!(out, "{BOLD}Recognised{BOLD:#}")?;
    let mut lines: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (c.matched.line, c.matched.text.as_str()))
        .collect();
    lines.sort();
    lines.dedup();
    for (n, text) in &lines {
        writeln!(out, "  {DIM}line {n}:{DIM:#} {text}")?;
    }
    let same_line = lines.len() < candidates.len();
    if candidates.len() > 1 {
        writeln!(
            out,
            "\n{} checks match{}; {}",
            candidates.len(),
            if same_line {
                " (the same message has several possible causes)"
            } else {
                ""
            },
            if offline {
                "without --offline this machine would decide."
            } else {
                "this machine decides:"
            }
        )?;
    }
    writeln!(out)?;
    for c in candidates {
        let (mark, style, word) = match c.finding.as_ref().map(|f| f.status) {
            Some(Status::Fail) => ("✗", RED, "likely cause"),
            Some(Status::Pass) => ("✓", GREEN, "ruled out"),
            Some(Status::NotApplicable) => ("·", DIM, "ruled out (does not apply here)"),
            Some(Status::Unknown) => ("?", YELLOW, "could not be decided"),
            Some(Status::Skipped) => ("-", DIM, "not checked"),
            None => ("•", BOLD, "candidate"),
        };
        writeln!(
            out,
            "{style}{mark}{style:#} {BOLD}{}{BOLD:#}  {word}: {}",
            c.check.id, c.check.title
        )?;
        if let Some(f) = &c.finding {
            if f.status != Status::Pass {
                writeln!(out, "    {}", f.summary)?;
            }
            for step in &f.fix {
                crate::report::human::write_fix_step(out, "    ", "fix ", step)?;
            }
            if f.status != Status::Fail {
                for e in &f.evidence {
                    writeln!(out, "    {DIM}{} = {}{DIM:#}", e.fact, e.state)?;
                }
            }
        }
        writeln!(out, "    {DIM}more{DIM:#} dockdoc explain {}", c.check.id)?;
    }
    writeln!(out)?;
    match v.id {
        Some(id) => writeln!(out, "{BOLD}Verdict:{BOLD:#} {id}: {}", v.reason),
        None => writeln!(out, "{BOLD}Verdict:{BOLD:#} {}", v.reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_strips_colour_and_line_ends_and_continuations_join() {
        let raw = "\x1b[31mdocker: Error\x1b[0m response\r\ndocker run \\\r\n  --device /dev/kvm \\\n  alpine\rdone\n";
        let plain = normalise(raw);
        assert_eq!(
            plain,
            "docker: Error response\ndocker run \\\n  --device /dev/kvm \\\n  alpine\ndone\n"
        );
        let lines: Vec<(usize, String)> = logical_lines(&plain)
            .map(|(n, l)| (n, l.into_owned()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, "docker: Error response".to_owned()),
                (2, "docker run    --device /dev/kvm    alpine".to_owned()),
                (5, "done".to_owned()),
            ]
        );
    }

    /// A small deterministic generator, so failures reproduce.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, below: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % below.max(1)
        }
    }

    /// The built-in matcher, and the set of all its patterns (compiled once: slow unoptimised).
    fn builtin() -> &'static (Matcher, SubSet) {
        static BUILTIN: std::sync::OnceLock<(Matcher, SubSet)> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            let m = Matcher::new(&crate::catalog::load_builtin().catalog).unwrap();
            let all = m.compile(0..m.patterns.len()).unwrap();
            (m, all)
        })
    }

    /// The prefiltered scan of `raw` (normalised as `run` does), and every line against every
    /// pattern.
    fn both(raw: &[u8]) -> (Vec<Match>, Vec<Match>) {
        let (m, all) = builtin();
        let text = normalise(&String::from_utf8_lossy(raw));
        (m.scan(&text), tally(logical_lines(&text), all))
    }

    fn samples() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/error-samples");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }

    #[test]
    fn the_builtin_catalog_gets_a_prefilter() {
        let (m, _) = builtin();
        let pre = m
            .prefilter
            .as_ref()
            .expect("every built-in pattern has a literal");
        assert!(pre.literals.window >= 6, "window {}", pre.literals.window);
    }

    #[test]
    fn literals_are_found_wherever_they_start_ignoring_ascii_case() {
        let mut rng = Lcg(7);
        let alphabet = b"abAB :\xc3\xa9";
        for _ in 0..300 {
            let literals: Vec<Vec<u8>> = (0..1 + rng.next(5))
                .map(|_| {
                    (0..4 + rng.next(6))
                        .map(|_| alphabet[rng.next(alphabet.len())])
                        .collect()
                })
                .collect();
            let set = Literals::new(literals.clone()).unwrap();
            let hay: Vec<u8> = (0..rng.next(200))
                .map(|_| alphabet[rng.next(alphabet.len())])
                .collect();
            let from = rng.next(hay.len() + 1);
            let mut found = Vec::new();
            set.scan(&hay, from, |start, i| {
                found.push((start, i));
                ControlFlow::Continue(())
            });
            found.sort();
            let mut naive = Vec::new();
            for start in from..hay.len() {
                for (i, lit) in literals.iter().enumerate() {
                    if hay
                        .get(start..start + lit.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(lit))
                    {
                        naive.push((start, i));
                    }
                }
            }
            assert_eq!(found, naive, "{literals:?} in {hay:?} from {from}");
        }
    }

    #[test]
    fn a_pattern_that_does_not_parse_turns_the_prefilter_off() {
        let ok = regex_syntax::Parser::new().parse("cannot connect").unwrap();
        assert!(Prefilter::new(&[Some(&ok)]).is_some());
        assert!(Prefilter::new(&[Some(&ok), None]).is_none());
        let bad = crate::catalog::Pattern::builtin("(unclosed");
        assert!(bad.hir().is_none());
        assert!(!bad.is_match("(unclosed"));
        let good = crate::catalog::Pattern::builtin("docker\\.sock");
        assert!(good.hir().is_some());
    }

    #[test]
    fn required_literals_are_the_ones_every_match_holds() {
        let lits = |re: &str| {
            required_literals(&regex_syntax::Parser::new().parse(re).unwrap()).map(|set| {
                set.into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            lits("(?i)Cannot connect to the Docker daemon"),
            Some(vec!["cannot connect to the doc".to_owned()]),
            "(?i)k also matches the Kelvin sign: the run stops before it"
        );
        assert_eq!(
            lits("unit (libvirtd|virtlogd)\\.(service|socket)"),
            Some(vec!["libvirtd".to_owned(), "virtlogd".to_owned()])
        );
        assert_eq!(lits("a+b*ccc"), Some(vec!["ccc".to_owned()]));
        assert_eq!(lits(r"\d+ (error)?"), Some(vec![" ".to_owned()]));
        assert_eq!(lits(r"\d+(error)?"), None);
        assert_eq!(lits("(foo|.*)"), None);
        assert_eq!(lits(""), None);
    }

    #[test]
    fn prefiltered_scan_finds_what_every_line_finds_in_the_samples() {
        let mut matched = 0;
        for sample in samples() {
            let (fast, full) = both(&sample);
            assert_eq!(fast, full, "{}", String::from_utf8_lossy(&sample));
            matched += usize::from(!full.is_empty());
        }
        assert!(matched > 30, "only {matched} sample files match");
    }

    #[test]
    fn prefiltered_scan_handles_long_lines_line_ends_escapes_and_bad_bytes() {
        let error = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
        let pad = "x".repeat(MAX_LINE_BYTES);
        let cases: Vec<(Vec<u8>, bool)> = vec![
            // Past 8 KiB only the head is matched: in it, across its end, after it.
            (format!("{error} {pad}\n").into_bytes(), true),
            (
                format!("{}{error}\n", "x".repeat(MAX_LINE_BYTES - 30)).into_bytes(),
                false,
            ),
            (format!("{pad}{error}\n").into_bytes(), false),
            (
                format!("chatter\r\n{error}\r\nmore\rchatter\r").into_bytes(),
                true,
            ),
            (
                "Cannot connect to the \x1b[1mDocker\x1b[0m daemon at unix:///x\n"
                    .as_bytes()
                    .to_vec(),
                true,
            ),
            // A literal split over a `\` continuation is found once the lines are joined.
            (
                b"$ docker run \\\n  --device /dev/kvm\nerror gathering device\\\r\ninformation while adding custom device \"/dev/kvm\"\n".to_vec(),
                true,
            ),
            (b"docker run \\\n--device /dev/kvm \\".to_vec(), false),
            // The last line, without a newline.
            (format!("chatter\nchatter\n{error}").into_bytes(), true),
            (
                [b"\xff\xfe chatter\n" as &[u8], error.as_bytes(), b"\xc3"].concat(),
                true,
            ),
            // (?i) letters match beyond ASCII: the Kelvin sign and the long s.
            (
                "CANNOT CONNECT TO THE DOC\u{212A}ER DAEMON AT unix://\n"
                    .as_bytes()
                    .to_vec(),
                true,
            ),
            ("docker: unknown ſerver OS: .\n".as_bytes().to_vec(), true),
            (b"".to_vec(), false),
            (b"\n\n\\\n".to_vec(), false),
        ];
        for (raw, matches) in cases {
            let (fast, full) = both(&raw);
            let shown = String::from_utf8_lossy(&raw);
            assert_eq!(fast, full, "{shown:?}");
            assert_eq!(!full.is_empty(), matches, "{shown:?}");
        }
    }

    #[test]
    fn prefiltered_scan_finds_what_every_line_finds_in_mixed_noise() {
        let sample_lines: Vec<String> = samples()
            .iter()
            .flat_map(|s| {
                String::from_utf8_lossy(s)
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        let noise: [&[u8]; 8] = [
            b"\n",
            b"\r\n",
            b"\r",
            b"\\\n",
            b"\x1b[31m",
            b"\x1b]0;t\x07",
            b"\xff",
            b" ",
        ];
        let mut rng = Lcg(42);
        for _ in 0..300 {
            let mut raw = Vec::new();
            for _ in 0..1 + rng.next(6) {
                let line = &sample_lines[rng.next(sample_lines.len())];
                // Cut, case-flip and interleave noise so literals break and rejoin.
                let bytes = line.as_bytes();
                let from = rng.next(4).min(bytes.len());
                for &b in bytes.get(from..).unwrap_or_default() {
                    raw.push(if rng.next(8) == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    });
                    if rng.next(40) == 0 {
                        raw.extend_from_slice(noise[rng.next(noise.len())]);
                    }
                }
                raw.extend_from_slice(noise[rng.next(3)]);
            }
            let (fast, full) = both(&raw);
            assert_eq!(fast, full, "{:?}", String::from_utf8_lossy(&raw));
        }
    }

    #[test]
    fn patterns_without_a_usable_literal_fall_back_to_matching_every_line() {
        let make = |patterns: &[&str]| {
            let hirs: Vec<Hir> = patterns
                .iter()
                .map(|p| regex_syntax::Parser::new().parse(p).unwrap())
                .collect();
            Matcher::with_patterns(
                patterns.iter().map(|p| (*p).to_owned()).collect(),
                &hirs.iter().map(Some).collect::<Vec<_>>(),
                (0..patterns.len()).collect(),
            )
        };
        let text = "12 errors\nfoo\nbar\nfoo bar baz\nsome thing\n";
        for patterns in [
            &[r"\d+ errors?", ".*"][..],
            &["(?i)foo bar"],
            &["ab", "(?i)something else"],
        ] {
            let m = make(patterns);
            assert_eq!(m.scan(text), m.scan_every_line(text), "{patterns:?}");
        }
        assert!(make(&[r"\d+ errors?", ".*"]).prefilter.is_none());
        assert!(
            make(&["ab"]).prefilter.is_none(),
            "too short for the window"
        );
        assert!(make(&["(?i)foo bar"]).prefilter.is_some());
        // A pattern needing a newline matches no line, prefilter or not.
        let m = make(&["foo\nbar", "(?i)thing"]);
        assert!(m.prefilter.is_some());
        assert_eq!(m.scan(text), m.scan_every_line(text));
        assert_eq!(m.scan(text).len(), 1);
        // No patterns: nothing matches.
        assert!(make(&[]).scan(text).is_empty());
        // Read in pieces, without a prefilter: counts add up over the pieces.
        let m = make(&[r"\d+ errors?", "foo", ".*"]);
        let raw = text.repeat(3);
        let reader = Trickle {
            data: raw.as_bytes(),
            rng: Lcg(3),
            most: 7,
        };
        let streamed = scan_input(&m, reader).unwrap();
        assert_eq!(streamed, m.scan_every_line(&raw));
        assert_eq!(
            streamed.iter().map(|f| f.count).collect::<Vec<_>>(),
            [3, 15, 6]
        );
    }

    /// Hands out its bytes a few at a time, as a pipe might.
    struct Trickle<'a> {
        data: &'a [u8],
        rng: Lcg,
        most: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (1 + self.rng.next(self.most))
                .min(buf.len())
                .min(self.data.len());
            let (now, later) = self.data.split_at(n);
            buf[..n].copy_from_slice(now);
            self.data = later;
            Ok(n)
        }
    }

    /// Scanning `raw` as it trickles in matches scanning all of it at once.
    fn assert_streams_like_whole(raw: &[u8], most: usize, seed: u64) {
        let (m, _) = builtin();
        let whole = m.scan(&normalise(&String::from_utf8_lossy(raw)));
        let reader = Trickle {
            data: raw,
            rng: Lcg(seed),
            most,
        };
        let streamed = scan_input(m, reader).unwrap();
        assert_eq!(streamed, whole, "{:?}", String::from_utf8_lossy(raw));
    }

    #[test]
    fn input_read_in_pieces_matches_as_if_read_whole() {
        let error = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
        let cases: Vec<Vec<u8>> = vec![
            format!("a\nb\n{error}\nc\n{error}\n").into_bytes(),
            format!("a\r\n{error}\r\nb\r\r\n{error}").into_bytes(),
            // Continuations across reads, also with CRLF and a CR line end after the `\`.
            b"docker run \\\n  --device /dev/kvm \\\r\n  alpine\nerror gathering device\\\r\ninformation while adding custom device \"/dev/kvm\"\nx\\\r\r\nerror gathering device\\\n".to_vec(),
            // A multi-byte character and invalid bytes split across reads.
            [b"caf\xc3\xa9 \xff\n" as &[u8], error.as_bytes(), b"\n\xe2\x84"].concat(),
            // An OSC title that runs over lines swallows their line ends.
            format!("one\n\x1b]0;title\n{error}\n\x07{error}\nlast {error}").into_bytes(),
            format!("one\n\x1b[31m{error}\x1b[0m\n").into_bytes(),
            b"".to_vec(),
            b"\\".to_vec(),
        ];
        for (i, raw) in cases.iter().enumerate() {
            for most in [1, 3, 17, 4096] {
                assert_streams_like_whole(raw, most, i as u64);
            }
        }
    }

    #[test]
    fn input_with_lines_longer_than_a_read_block_matches_as_if_read_whole() {
        let error = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.";
        let long = "y".repeat(READ_BLOCK + 100);
        let mut raw = String::new();
        for line in 0..40 {
            raw.push_str(if line % 7 == 0 { &long } else { "chatter" });
            raw.push_str(if line % 5 == 0 { " \\\n" } else { "\n" });
            if line % 3 == 0 {
                raw.push_str(error);
                raw.push('\n');
            }
        }
        assert_streams_like_whole(raw.as_bytes(), READ_BLOCK / 3, 1);
        assert_streams_like_whole(raw.as_bytes(), READ_BLOCK * 3, 2);
    }

    #[test]
    fn input_over_the_limit_is_refused() {
        struct Endless;
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = if i % 80 == 79 { b'\n' } else { b'x' };
                }
                Ok(buf.len())
            }
        }
        let (m, _) = builtin();
        let err = scan_input(m, Endless).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
    }
}
