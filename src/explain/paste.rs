//! The paste: read in blocks, escapes and carriage returns removed, `\\` continuations joined.

use std::io::Read;

use anyhow::{Context as _, Result, bail};
use regex::Regex;

use super::matcher::{Match, Matcher, Scan};

/// Explain input larger than this is refused: 64 MiB of terminal scroll-back is plenty.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Prepares pasted text for matching: ANSI escapes removed, CRLF and lone CR made newlines, and
/// the quotes ‘ ’ “ ” made ASCII (GNU tools quote ‘like this’ in a UTF-8 locale, and forums turn
/// `don't` into `don’t`; the patterns are written, or loaded, with ASCII quotes). Line numbers are those of
/// the paste. Shell `\` continuations are joined later, line by line, by [`logical_lines`].
pub fn normalise(text: &str) -> String {
    normalised(text).into_owned()
}

/// [`normalise`], borrowing text that has no escapes, carriage returns or typographic quotes.
pub(super) fn normalised(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    // Compiling the escape regex costs more than looking for an escape byte.
    let escaped = memchr::memchr(0x1b, text.as_bytes()).is_some();
    let plain = match escaped.then(ansi).flatten() {
        Some(re) => re.replace_all(text, ""),
        None => Cow::Borrowed(text),
    };
    let plain = crate::catalog::load::ascii_quotes(plain);
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
pub(super) fn join_continued<'a>(head: &str, rest: impl Iterator<Item = &'a str>) -> String {
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
    // CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), and the
    // two-byte escapes.
    super::compiled(
        &ANSI,
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]",
    )
}

/// The lines of text as [`str::lines`] splits them, each with its number (from 1) and the
/// offset where it starts.
pub(super) struct PhysicalLines<'t> {
    text: &'t str,
    pos: usize,
    pub(super) n: usize,
}

impl<'t> PhysicalLines<'t> {
    pub(super) fn new(text: &'t str) -> PhysicalLines<'t> {
        PhysicalLines { text, pos: 0, n: 0 }
    }

    /// Where the next line starts.
    pub(super) fn offset(&self) -> usize {
        self.pos
    }

    pub(super) fn next(&mut self) -> Option<(usize, usize, &'t str)> {
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
    pub(super) fn join_continued(&mut self, head: &str) -> String {
        join_continued(head, std::iter::from_fn(|| self.next().map(|(_, _, l)| l)))
    }
}

/// Error messages are short; a longer "line" is binary junk or a minified blob. Matching only
/// its head keeps pasted garbage from stalling the regex set.
pub(super) const MAX_LINE_BYTES: usize = 8 * 1024;

pub(super) fn line_head(line: &str) -> &str {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.get(..end).unwrap_or_default()
}

/// Input is read this much at a time, and scanned a run of whole lines at a time, so a long log
/// is never held whole.
pub(super) const READ_BLOCK: usize = 256 * 1024;

/// Text up to this long is a paste, matched with its hard-wrapped lines rejoined
/// ([`Matcher::scan_paste`]); longer input is a log, scanned as it is read.
pub(super) const PASTE_BYTES: usize = 64 * 1024;

/// Each physical line of normalised text joined by `sep` with the next (the first without its
/// trailing blanks, the second without its indentation), one pair per line, so that pair `k` is
/// line `k` of the text.
/// The other readings of a normalised paste, each numbered as the paste: every line joined
/// with the next, once with a space (a forum breaks at a space) and once without (a terminal
/// breaks inside a word); and systemctl's status and `is-enabled` lines with the unit they are
/// about in front ([`super::systemctl::with_units`]).
pub fn readings(text: &str) -> [String; 3] {
    [
        joined_pairs(text, " "),
        joined_pairs(text, ""),
        super::systemctl::with_units(text),
    ]
}

pub(super) fn joined_pairs(text: &str, sep: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() * 2);
    for pair in lines.windows(2) {
        if let [first, second] = pair {
            out.push_str(first.trim_end());
            out.push_str(sep);
            out.push_str(second.trim_start());
            out.push('\n');
        }
    }
    out
}

/// Reads standard input: up to [`PASTE_BYTES`] it is a paste, matched whole with
/// [`Matcher::scan_paste`]; past that, a log scanned as it is read ([`scan_input`]).
///
/// # Errors
/// The input cannot be read, or is larger than 64 MiB.
pub(super) fn scan_stdin(
    matcher: &Matcher,
    mut input: impl Read,
) -> Result<(Vec<Match>, String, usize)> {
    let mut head = Vec::new();
    (&mut input)
        .take(PASTE_BYTES as u64 + 1)
        .read_to_end(&mut head)
        .context("cannot read standard input")?;
    if head.len() <= PASTE_BYTES {
        let text = lossy(&head);
        let text = normalised(&text);
        return Ok((matcher.scan_paste(&text), text.into_owned(), 1));
    }
    scan_input(matcher, std::io::Cursor::new(head).chain(input))
}

/// The last [`PASTE_BYTES`] of a long normalised text, from a line's start, and the number of
/// that line: where a log's signals are read.
pub(super) fn tail(text: &str) -> (&str, usize) {
    if text.len() <= PASTE_BYTES {
        return (text, 1);
    }
    let mut cut = text.len() - PASTE_BYTES;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    let before = text.get(..cut).unwrap_or_default();
    let start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
    let lines_before =
        memchr::memchr_iter(b'\n', before.as_bytes().get(..start).unwrap_or_default()).count();
    (text.get(start..).unwrap_or_default(), lines_before + 1)
}

/// The last lines of a log as it is read, at most [`PASTE_BYTES`] of them and never cut inside
/// one, with the number of the first.
#[derive(Default)]
struct Tail {
    text: String,
    /// Lines dropped from its front so far.
    dropped: usize,
}

impl Tail {
    fn push(&mut self, lines: &str) {
        self.text.push_str(lines);
        if self.text.len() > 2 * PASTE_BYTES {
            let (kept, first) = tail(&self.text);
            let start = self.text.len() - kept.len();
            self.dropped += first - 1;
            // In place: a fresh copy each time would fault in new pages for every 64 KiB of a
            // long log.
            self.text.drain(..start);
        }
    }

    fn finish(self) -> (String, usize) {
        let (kept, first) = tail(&self.text);
        (kept.to_owned(), self.dropped + first)
    }
}

/// Reads and scans `input` as [`Matcher::scan`] scans its whole text, normalised.
///
/// Normalising is local to lines, apart from `\` continuations (a run of lines is never cut
/// inside one) and escape sequences (an OSC title runs to its terminator, lines away): from the
/// first escape byte on, the rest is read and normalised in one piece.
pub(super) fn scan_input(
    matcher: &Matcher,
    mut input: impl Read,
) -> Result<(Vec<Match>, String, usize)> {
    let mut scan = Scan::new(matcher);
    let mut kept = Tail::default();
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
        let lines = normalised(&lines);
        scan.feed(&lines);
        kept.push(&lines);
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
    let rest = lossy(buf.get(..filled).unwrap_or_default());
    let rest = normalised(&rest);
    scan.feed(&rest);
    kept.push(&rest);
    let (tail, first) = kept.finish();
    Ok((scan.finish(), tail, first))
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
