//! The matcher: every check's `explains` patterns, matched on the lines the prefilter picks.

use anyhow::Result;
use regex_automata::{Input, PatternSet, meta};

use super::paste::{line_head, logical_lines};
use super::prefilter::Prefilter;
use crate::catalog::literals::Shape;
use crate::catalog::{Catalog, REGEX_SIZE_LIMIT};

/// One check whose patterns matched: where first, and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub check: usize,
    pub line: usize,
    pub text: String,
    pub count: usize,
    /// How specific the most specific matched pattern is: the bytes every match of it spells out
    /// (see [`crate::catalog::literals::fixed_len`]). A message that names the directives set twice
    /// outranks one that only names the file.
    pub specificity: usize,
}

/// The patterns of every check, and a literal prefilter over them.
///
/// Compiling the set of every pattern costs more than scanning megabytes of log, and most logs
/// hold no error any check knows. So the text is first searched once for literals that every
/// match must contain; only lines holding one are matched, against a set compiled from just the
/// patterns whose literals they hold. The result is the same as matching every line against
/// every pattern.
pub struct Matcher {
    pub(super) patterns: Vec<String>,
    /// For each pattern, the index of its check in the catalog.
    owner: Vec<usize>,
    /// For each pattern, its specificity.
    specificity: Vec<usize>,
    /// `None` when some pattern has no literal every match contains: then every line is matched.
    pub(super) prefilter: Option<Prefilter>,
}

impl Matcher {
    pub fn new(catalog: &Catalog) -> Result<Matcher> {
        let mut patterns = Vec::new();
        let mut shapes = Vec::new();
        let mut owner = Vec::new();
        for (i, c) in catalog.checks.iter().enumerate() {
            for r in &c.explains {
                patterns.push(r.as_str().to_owned());
                shapes.push(r.shape());
                owner.push(i);
            }
        }
        Ok(Matcher::with_patterns(patterns, &shapes, owner))
    }

    /// Patterns, each with its shape (`None`: it does not parse) and the index of its check.
    pub(super) fn with_patterns(
        patterns: Vec<String>,
        shapes: &[Option<&Shape>],
        owner: Vec<usize>,
    ) -> Matcher {
        let prefilter = Prefilter::new(shapes);
        let specificity = shapes
            .iter()
            .map(|s| s.map_or(0, |s| s.specificity))
            .collect();
        Matcher {
            patterns,
            owner,
            specificity,
            prefilter,
        }
    }

    /// Matches every line once; returns one entry per matched check, in order of first match.
    pub fn scan(&self, text: &str) -> Vec<Match> {
        let mut scan = Scan::new(self);
        scan.feed(text);
        scan.finish()
    }

    /// [`Matcher::scan`] of a paste (not a log), and of its other readings
    /// ([`super::paste::readings`]: lines rejoined, systemctl's lines given their unit); a check
    /// only another reading matches is added, at the line it starts on.
    pub fn scan_paste(&self, text: &str) -> Vec<Match> {
        let mut found = self.scan(text);
        for variant in &super::paste::readings(text) {
            for m in self.scan(variant) {
                if !found.iter().any(|f| f.check == m.check) {
                    found.push(m);
                }
            }
        }
        found
    }

    /// [`Matcher::scan`] without the prefilter: every line against every pattern.
    #[cfg(test)]
    pub(super) fn scan_every_line(&self, text: &str) -> Vec<Match> {
        match self.compile(0..self.patterns.len()) {
            Some(set) => tally(logical_lines(text), &set),
            None => Vec::new(),
        }
    }

    /// A set of the given patterns (ascending), each mapped back to its check.
    pub(super) fn compile(&self, wanted: impl IntoIterator<Item = usize>) -> Option<SubSet> {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        let mut specificity = Vec::new();
        for p in wanted {
            patterns.push(self.patterns.get(p)?.as_str());
            owner.push(*self.owner.get(p)?);
            specificity.push(self.specificity.get(p).copied().unwrap_or(0));
        }
        // Each pattern was held to the size limit when its file loaded; the set gets that much
        // per pattern, so patterns that loaded never break the set together (one limit for the
        // whole set would: two user patterns near it left explain recognising nothing).
        let limit = REGEX_SIZE_LIMIT.saturating_mul(patterns.len().max(1));
        // A `regex::RegexSet`, configured as the regex crate configures one (every pattern's
        // matches, no capture groups, the same size limit), but with a literal prefilter only
        // when every line is matched: otherwise the lines it is asked about were picked for
        // holding one of its patterns' literals, and extracting the set's literals was most of
        // building it.
        let every_line = self.prefilter.is_none();
        let set = meta::Builder::new()
            .configure(
                meta::Config::new()
                    .match_kind(regex_automata::MatchKind::All)
                    .which_captures(regex_automata::nfa::thompson::WhichCaptures::None)
                    .auto_prefilter(every_line)
                    .nfa_size_limit(Some(limit)),
            )
            .build_many(&patterns)
            .ok()?;
        Some(SubSet {
            set,
            owner,
            specificity,
        })
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
                        Some(f) => {
                            f.count += m.count;
                            f.specificity = f.specificity.max(m.specificity);
                        }
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
pub(super) struct SubSet {
    set: meta::Regex,
    owner: Vec<usize>,
    specificity: Vec<usize>,
}

/// Matches each line (its head) against the set; one entry per matched check, in order of first
/// match.
pub(super) fn tally<'t>(
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
        let mut hits = PatternSet::new(sub.set.pattern_len());
        sub.set
            .which_overlapping_matches(&Input::new(line), &mut hits);
        // (check, specificity) per matched pattern; a check's patterns are adjacent.
        let mut checks: Vec<(usize, usize)> = Vec::new();
        for p in hits.iter().map(|p| p.as_usize()) {
            let (Some(&check), Some(&spec)) = (sub.owner.get(p), sub.specificity.get(p)) else {
                continue;
            };
            match checks.last_mut() {
                Some(last) if last.0 == check => last.1 = last.1.max(spec),
                _ => checks.push((check, spec)),
            }
        }
        for (check, specificity) in checks {
            match found.iter_mut().find(|m| m.check == check) {
                Some(m) => {
                    m.count += 1;
                    m.specificity = m.specificity.max(specificity);
                }
                None => found.push(Match {
                    check,
                    line: n,
                    text: line.trim().chars().take(300).collect(),
                    count: 1,
                    specificity,
                }),
            }
        }
    }
    found
}
