//! Signals: what a paste is about, read from its words (the vocabulary in
//! `checks/data/signals.toml`), and the checks they tie it to.
//!
//! A check lists the signals that speak of its cause. A paste is tied to the check when, within
//! a few lines of each other, it holds at least two of them: what failed (an endpoint, a
//! component or an object) and how (a condition: a paste with no failure in it is no error),
//! or two objects,
//! and their weights add up to [`THRESHOLD`]. A context signal counts wherever it stands. The
//! tie's score ranks it.

use serde::Serialize;

use super::paste::{line_head, logical_lines};
use crate::catalog::signals::{Kind, Vocabulary};
use crate::catalog::{Catalog, REGEX_SIZE_LIMIT};

/// Lines either side of a signal within which another counts with it.
pub(super) const WINDOW: usize = 2;

/// The least score that ties a paste to a check by its signals alone.
pub(super) const THRESHOLD: u32 = 4;

/// The least score with which signals anywhere in a paste have a check evaluated on a machine.
pub(super) const LOOSE_THRESHOLD: u32 = 3;

/// Lines kept per signal: where it first stands is what is shown, the rest only decides windows.
const LINES_PER_SIGNAL: usize = 64;

/// A signal found in the paste: the lines it stands on (the first [`LINES_PER_SIGNAL`]), and
/// on each the bytes of its first match there.
#[derive(Clone, Debug)]
pub struct Hit {
    pub signal: usize,
    pub lines: Vec<usize>,
    pub spans: Vec<(usize, usize)>,
}

impl Hit {
    /// Whether this hit and `other` stand on text of their own near `centre`: on different
    /// lines, or apart on one line (two signals that match the same words are one word read
    /// twice).
    fn apart(&self, other: &Hit, centre: usize) -> bool {
        let near = |h: &Hit| {
            h.lines
                .iter()
                .zip(&h.spans)
                .filter(|(l, _)| l.abs_diff(centre) <= WINDOW)
                .map(|(l, s)| (*l, *s))
                .collect::<Vec<_>>()
        };
        let theirs = near(other);
        near(self).iter().any(|(l, (a, b))| {
            theirs
                .iter()
                .any(|(m, (c, d))| l != m || *b <= *c || *d <= *a)
        })
    }
}

/// The signals of a paste.
#[derive(Clone, Debug, Default)]
pub struct Read {
    pub hits: Vec<Hit>,
    /// The text of the lines that hold a signal (the first [`TEXTS`]), by line number.
    pub texts: Vec<(usize, String)>,
    /// The lines their program marked informational ([`informational`], the first [`TEXTS`]).
    pub informational: Vec<usize>,
}

/// Lines whose text is kept, to show the line a tie stands on.
const TEXTS: usize = 512;

/// How a paste ties to one check through its signals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tie {
    /// The sum of the weights of the signals that tie it.
    pub score: u32,
    /// Their names, most specific first.
    pub signals: Vec<String>,
    /// The line the tie stands on (0: none).
    pub line: usize,
}

/// The vocabulary, ready to read a paste: the literals every match of each signal holds, in one
/// automaton, and each signal's pattern, compiled the first time a line holds one of its
/// literals. Most signals never occur in a paste, so most are never compiled (one set of all of
/// them took some 50 ms and 10 MiB to build on every run).
pub struct Reader {
    patterns: Vec<String>,
    /// Literals (ASCII case ignored), each with its signal; `None` when none could be drawn.
    literals: Option<aho_corasick::AhoCorasick>,
    owner: Vec<usize>,
    /// Signals with no literal every match holds: tried on every line.
    always: Vec<usize>,
    compiled: Vec<std::sync::OnceLock<Option<regex_automata::meta::Regex>>>,
}

impl Reader {
    pub fn new(vocabulary: &Vocabulary) -> Reader {
        let patterns: Vec<String> = vocabulary.signals.iter().map(|s| s.pattern()).collect();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        for (i, signal) in vocabulary.signals.iter().enumerate() {
            match signal.literals() {
                Some(set) => {
                    for lit in set {
                        literals.push(lit.clone());
                        owner.push(i);
                    }
                }
                None => always.push(i),
            }
        }
        // A paste is short: the automaton that is quickest to build serves it best. Literals and
        // lines are lower-cased instead of asking it to ignore ASCII case, which doubled the
        // transitions its failure links are worked out over (14.5 M instructions of a one-line
        // paste's 63 M; lower-casing the line is a copy of it).
        for literal in &mut literals {
            literal.make_ascii_lowercase();
        }
        let literals = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(&literals)
            .ok();
        if literals.is_none() {
            always = (0..patterns.len()).collect();
        }
        Reader {
            compiled: patterns
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            patterns,
            literals,
            owner,
            always,
        }
    }

    /// Where `signal` first matches in `line`, if it does.
    fn matches(&self, signal: usize, line: &[u8]) -> Option<(usize, usize)> {
        let (Some(slot), Some(pattern)) = (self.compiled.get(signal), self.patterns.get(signal))
        else {
            return None;
        };
        slot.get_or_init(|| {
            use regex_automata::{meta, nfa::thompson::WhichCaptures, util::syntax};
            // Signals are words: matched as bytes without Unicode classes, each stays small and
            // quick, and a line that is not UTF-8 is read as far as it is text (as
            // `regex::bytes` with `unicode(false)`). Only where a match is is asked, so no
            // capture groups, and no engines that exist to find them (one-pass, backtracker).
            // No prefilter: the line was picked for holding one of the signal's literals.
            meta::Regex::builder()
                .syntax(syntax::Config::new().unicode(false).utf8(false))
                .configure(
                    meta::Config::new()
                        .utf8_empty(false)
                        .auto_prefilter(false)
                        .onepass(false)
                        .backtrack(false)
                        .which_captures(WhichCaptures::Implicit)
                        .nfa_size_limit(Some(REGEX_SIZE_LIMIT)),
                )
                .build(pattern)
                .ok()
        })
        .as_ref()
        .and_then(|re| re.find(line))
        .map(|m| (m.start(), m.end()))
    }

    /// The signals of `text` (normalised), its lines numbered from `first_line`.
    pub fn read(&self, text: &str, first_line: usize) -> Read {
        let mut read = Read::default();
        let mut wanted: Vec<usize> = Vec::new();
        let mut lower: Vec<u8> = Vec::new();
        for (n, line) in logical_lines(text) {
            let line = line_head(&line).as_bytes();
            let at = first_line + n - 1;
            if informational(line) && read.informational.len() < TEXTS {
                read.informational.push(at);
            }
            wanted.clear();
            wanted.extend(&self.always);
            if let Some(ac) = &self.literals {
                lower.clear();
                lower.extend(line.iter().map(u8::to_ascii_lowercase));
                wanted.extend(
                    ac.find_overlapping_iter(&lower)
                        .filter_map(|m| self.owner.get(m.pattern().as_usize())),
                );
            }
            wanted.sort_unstable();
            wanted.dedup();
            let mut any = false;
            for &signal in &wanted {
                let Some(span) = self.matches(signal, line) else {
                    continue;
                };
                any = true;
                match read.hits.iter_mut().find(|h| h.signal == signal) {
                    Some(h) if h.lines.len() < LINES_PER_SIGNAL => {
                        h.lines.push(at);
                        h.spans.push(span);
                    }
                    Some(_) => {}
                    None => read.hits.push(Hit {
                        signal,
                        lines: vec![at],
                        spans: vec![span],
                    }),
                }
            }
            if any && read.texts.len() < TEXTS {
                let text = String::from_utf8_lossy(line);
                read.texts
                    .push((at, text.trim().chars().take(300).collect()));
            }
        }
        read
    }
}

/// Whether the program that wrote a log line marked it informational: logrus's text format
/// (`INFO[0000]`, `DEBU[0000]`) or logfmt (`level=info`, `level=debug`), as dockerd and
/// containerd write them. Such a line reports no failure (`Docker daemon … graphdriver=overlay`
/// is dockerd's banner): offline its words are not read as signals ([`Read::offline`]); the
/// patterns still read it, and on a machine, where evidence decides, so do the signals.
fn informational(line: &[u8]) -> bool {
    let marked = |at: usize, len: usize| {
        line.get(at..at + len)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"info") || w.eq_ignore_ascii_case(b"debug"))
    };
    memchr::memmem::find_iter(line, b"level=").any(|i| marked(i + 6, 4) || marked(i + 6, 5))
        || memchr::memmem::find(line, b"INFO[").is_some()
        || memchr::memmem::find(line, b"DEBU[").is_some()
}

impl Read {
    /// Adds the signals of another reading of the same paste (its lines numbered alike).
    pub fn merge(&mut self, other: Read) {
        for line in other.informational {
            if self.informational.len() < TEXTS && !self.informational.contains(&line) {
                self.informational.push(line);
            }
        }
        for (line, text) in other.texts {
            if self.texts.len() < TEXTS && !self.texts.iter().any(|(l, _)| *l == line) {
                self.texts.push((line, text));
            }
        }
        for hit in other.hits {
            match self.hits.iter_mut().find(|h| h.signal == hit.signal) {
                Some(h) => {
                    let mut both: Vec<(usize, (usize, usize))> = h
                        .lines
                        .iter()
                        .copied()
                        .zip(h.spans.iter().copied())
                        .collect();
                    for (l, span) in hit.lines.into_iter().zip(hit.spans) {
                        if both.len() < LINES_PER_SIGNAL && !both.iter().any(|(m, _)| *m == l) {
                            both.push((l, span));
                        }
                    }
                    both.sort_unstable();
                    (h.lines, h.spans) = both.into_iter().unzip();
                }
                None => self.hits.push(hit),
            }
        }
    }

    /// The signals as offline explain reads them: without the lines their program marked
    /// informational, which report no failure.
    pub fn offline(mut self) -> Read {
        if self.informational.is_empty() {
            return self;
        }
        let informational = std::mem::take(&mut self.informational);
        for hit in &mut self.hits {
            let kept: Vec<(usize, (usize, usize))> = hit
                .lines
                .iter()
                .copied()
                .zip(hit.spans.iter().copied())
                .filter(|(l, _)| !informational.contains(l))
                .collect();
            (hit.lines, hit.spans) = kept.into_iter().unzip();
        }
        self.hits.retain(|h| !h.lines.is_empty());
        self
    }

    /// The text of line `line`, if it holds a signal.
    pub fn text(&self, line: usize) -> &str {
        self.texts
            .iter()
            .find(|(l, _)| *l == line)
            .map_or("", |(_, t)| t.as_str())
    }

    fn hit(&self, signal: usize) -> Option<&Hit> {
        self.hits.iter().find(|h| h.signal == signal)
    }

    /// The hits of one kind, in order of their first line.
    pub fn of_kind<'v>(
        &self,
        vocabulary: &'v Vocabulary,
        kind: Kind,
    ) -> Vec<(&'v crate::catalog::signals::Signal, usize)> {
        let mut out: Vec<_> = self
            .hits
            .iter()
            .filter_map(|h| {
                let s = vocabulary.signals.get(h.signal)?;
                (s.kind == kind).then_some((s, h.lines.first().copied().unwrap_or(0)))
            })
            .collect();
        out.sort_by_key(|(_, line)| *line);
        out
    }

    /// How the paste ties to `check` through the signals it lists: the best window's score,
    /// whether or not it reaches [`THRESHOLD`] (a check an `explains` pattern matched is ranked
    /// by it too). `None` when no two of its signals stand together.
    pub fn tie(&self, vocabulary: &Vocabulary, check: &crate::catalog::Check) -> Option<Tie> {
        let weight = |i: usize| vocabulary.signals.get(i).map_or(0, |s| s.weight());
        let listed: Vec<(usize, Kind)> = check
            .signals
            .iter()
            .filter_map(|name| {
                let i = vocabulary.index(name)?;
                Some((i, vocabulary.signals.get(i)?.kind))
            })
            .collect();
        let context: Vec<usize> = listed
            .iter()
            .filter(|(i, k)| *k == Kind::Context && self.hit(*i).is_some())
            .map(|(i, _)| *i)
            .collect();
        let near: Vec<(usize, Kind, &Hit)> = listed
            .iter()
            .filter(|(_, k)| !matches!(k, Kind::Context | Kind::Elsewhere))
            .filter_map(|(i, k)| Some((*i, *k, self.hit(*i)?)))
            .collect();
        let mut best: Option<(u32, Vec<usize>, usize)> = None;
        for (_, _, hit) in &near {
            for &centre in &hit.lines {
                let within: Vec<(usize, Kind)> = near
                    .iter()
                    .filter(|(_, _, h)| h.lines.iter().any(|&l| l.abs_diff(centre) <= WINDOW))
                    .map(|(i, k, _)| (*i, *k))
                    .collect();
                let what = within
                    .iter()
                    .any(|(_, k)| matches!(k, Kind::Endpoint | Kind::Component | Kind::Object));
                let how = within.iter().any(|(_, k)| *k == Kind::Condition);
                // The paste says how it failed in words this cause does not produce (EACCES
                // where the check's cause gives ENOENT): not this check, whatever else matches.
                let specific = |i: usize| {
                    vocabulary
                        .signals
                        .get(i)
                        .is_some_and(|s| s.kind == Kind::Condition && s.weight() >= 2)
                };
                let said = self.hits.iter().any(|h| {
                    specific(h.signal) && h.lines.iter().any(|&l| l.abs_diff(centre) <= WINDOW)
                });
                if said && !within.iter().any(|(i, _)| specific(*i)) {
                    continue;
                }
                // Two objects name what failed precisely enough without a failure word (`docker
                // info`'s "Storage Driver: vfs" under its data root).
                // The two objects must stand on words of their own.
                let objects: Vec<&Hit> = near
                    .iter()
                    .filter(|(i, k, _)| *k == Kind::Object && within.iter().any(|(j, _)| j == i))
                    .map(|(_, _, h)| *h)
                    .collect();
                let two_objects = objects
                    .iter()
                    .enumerate()
                    .any(|(a, h)| objects.iter().skip(a + 1).any(|o| h.apart(o, centre)));
                if !(what && how || two_objects) {
                    continue;
                }
                let score: u32 = within
                    .iter()
                    .map(|(i, _)| weight(*i))
                    .chain(context.iter().map(|i| weight(*i)))
                    .sum();
                if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                    let mut signals: Vec<usize> = within.iter().map(|(i, _)| *i).collect();
                    signals.extend(&context);
                    best = Some((score, signals, centre));
                }
            }
        }
        let (score, mut signals, line) = best?;
        signals.sort_by_key(|i| std::cmp::Reverse(weight(*i)));
        Some(Tie {
            score,
            signals: signals
                .iter()
                .filter_map(|i| Some(vocabulary.signals.get(*i)?.name.clone()))
                .collect(),
            line,
        })
    }

    /// How the paste touches `check` anywhere in it, for a machine to decide: the check's
    /// signals that stand anywhere in the paste, if one of them names what failed
    /// (an endpoint, a component or an object) and their score reaches [`LOOSE_THRESHOLD`] (an
    /// object alone, or a component or endpoint and one more word). Such a check is
    /// evaluated on a machine, and offered only when it fails there.
    pub fn touch(&self, vocabulary: &Vocabulary, check: &crate::catalog::Check) -> Option<Tie> {
        let present: Vec<(usize, &crate::catalog::signals::Signal, usize)> = check
            .signals
            .iter()
            .filter_map(|name| {
                let i = vocabulary.index(name)?;
                let s = vocabulary.signals.get(i)?;
                let hit = self.hit(i)?;
                Some((i, s, hit.lines.first().copied().unwrap_or(0)))
            })
            .filter(|(_, s, _)| s.kind != Kind::Elsewhere)
            .collect();
        let precise = present
            .iter()
            .find(|(_, s, _)| matches!(s.kind, Kind::Endpoint | Kind::Component | Kind::Object))?;
        // As for a tie: a paste that says how it failed in words this cause does not produce
        // is not about it.
        let specific =
            |s: &crate::catalog::signals::Signal| s.kind == Kind::Condition && s.weight() >= 2;
        let said = self
            .hits
            .iter()
            .any(|h| vocabulary.signals.get(h.signal).is_some_and(specific));
        if said && !present.iter().any(|(_, s, _)| specific(s)) {
            return None;
        }
        let score: u32 = present.iter().map(|(_, s, _)| s.weight()).sum();
        if score < LOOSE_THRESHOLD {
            return None;
        }
        let line = precise.2;
        let mut named: Vec<&crate::catalog::signals::Signal> =
            present.iter().map(|(_, s, _)| *s).collect();
        named.sort_by_key(|s| std::cmp::Reverse(s.weight()));
        Some(Tie {
            score,
            signals: named.iter().map(|s| s.name.clone()).collect(),
            line,
        })
    }

    /// Every check the signals tie the paste to (score at least [`THRESHOLD`]), by catalog
    /// index.
    pub fn ties(&self, vocabulary: &Vocabulary, catalog: &Catalog) -> Vec<(usize, Tie)> {
        catalog
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, self.tie(vocabulary, c)?)))
            .filter(|(_, t)| t.score >= THRESHOLD)
            .collect()
    }
}
