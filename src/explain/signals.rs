//! Signals: what a paste is about, read from its words (the vocabulary in
//! `checks/data/signals.toml`), and the checks they tie it to.
//!
//! A check lists the signals that speak of its cause. A paste is tied to the check when, within
//! a few lines of each other, it holds at least two of them: what failed (an endpoint, a
//! component or an object) and how (a condition: a paste with no failure in it is no error),
//! or two objects,
//! and their weights add up to [`THRESHOLD`]. A context signal counts wherever it stands. The
//! tie's score ranks it.

use regex::bytes::{RegexSet, RegexSetBuilder};
use serde::Serialize;

use super::paste::{line_head, logical_lines};
use crate::catalog::signals::{Kind, Vocabulary};
use crate::catalog::{Catalog, REGEX_SIZE_LIMIT};

/// Lines either side of a signal within which another counts with it.
pub(super) const WINDOW: usize = 3;

/// The least score that ties a paste to a check by its signals alone.
pub(super) const THRESHOLD: u32 = 4;

/// The least score with which signals anywhere in a paste have a check evaluated on a machine.
pub(super) const LOOSE_THRESHOLD: u32 = 5;

/// Lines kept per signal: where it first stands is what is shown, the rest only decides windows.
const LINES_PER_SIGNAL: usize = 64;

/// A signal found in the paste: the lines it stands on (the first [`LINES_PER_SIGNAL`]).
#[derive(Clone, Debug)]
pub struct Hit {
    pub signal: usize,
    pub lines: Vec<usize>,
}

/// The signals of a paste.
#[derive(Clone, Debug, Default)]
pub struct Read {
    pub hits: Vec<Hit>,
    /// The text of the lines that hold a signal (the first [`TEXTS`]), by line number.
    pub texts: Vec<(usize, String)>,
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

/// The vocabulary compiled into one set, one pattern per signal.
pub struct Reader {
    set: Option<RegexSet>,
}

impl Reader {
    pub fn new(vocabulary: &Vocabulary) -> Reader {
        let patterns: Vec<String> = vocabulary.signals.iter().map(|s| s.pattern()).collect();
        let limit = REGEX_SIZE_LIMIT.saturating_mul(patterns.len().max(1));
        // Signals are words; matched as bytes without Unicode classes, the set stays small and
        // quick, and a line that is not UTF-8 is read as far as it is text.
        let set = RegexSetBuilder::new(&patterns)
            .unicode(false)
            .size_limit(limit)
            .build()
            .ok();
        Reader { set }
    }

    /// The signals of `text` (normalised), its lines numbered from `first_line`.
    pub fn read(&self, text: &str, first_line: usize) -> Read {
        let mut read = Read::default();
        let Some(set) = &self.set else {
            return read;
        };
        for (n, line) in logical_lines(text) {
            let line = line_head(&line);
            let at = first_line + n - 1;
            let matched = set.matches(line.as_bytes());
            if matched.matched_any() && read.texts.len() < TEXTS {
                read.texts
                    .push((at, line.trim().chars().take(300).collect()));
            }
            for signal in matched.iter() {
                match read.hits.iter_mut().find(|h| h.signal == signal) {
                    Some(h) if h.lines.len() < LINES_PER_SIGNAL => h.lines.push(at),
                    Some(_) => {}
                    None => read.hits.push(Hit {
                        signal,
                        lines: vec![at],
                    }),
                }
            }
        }
        read
    }
}

impl Read {
    /// Adds the signals of another reading of the same paste (its lines numbered alike).
    pub fn merge(&mut self, other: Read) {
        for (line, text) in other.texts {
            if self.texts.len() < TEXTS && !self.texts.iter().any(|(l, _)| *l == line) {
                self.texts.push((line, text));
            }
        }
        for hit in other.hits {
            match self.hits.iter_mut().find(|h| h.signal == hit.signal) {
                Some(h) => {
                    for l in hit.lines {
                        if h.lines.len() < LINES_PER_SIGNAL && !h.lines.contains(&l) {
                            h.lines.push(l);
                        }
                    }
                    h.lines.sort_unstable();
                }
                None => self.hits.push(hit),
            }
        }
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
                let objects = within.iter().filter(|(_, k)| *k == Kind::Object).count();
                if !(what && how || objects >= 2) {
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
    /// signals that stand anywhere in the paste, if one of them names what failed precisely
    /// (an endpoint or an object) and their score reaches [`LOOSE_THRESHOLD`]. Such a check is
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
            .find(|(_, s, _)| matches!(s.kind, Kind::Endpoint | Kind::Object))?;
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
