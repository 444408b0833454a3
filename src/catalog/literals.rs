//! What a pattern's syntax says before it is compiled: the literals one of which every match
//! holds, and how many bytes every match spells out. `dockdoc explain` searches a paste for the
//! literals first and ranks a match by the bytes; for the built-in patterns both are worked out
//! at build time (build.rs), so a run does not parse hundreds of patterns it will not compile.

use regex_syntax::hir::{Class, Hir, HirKind};

/// A pattern's [`required_literals`] and [`fixed_len`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// `None` when no set of literals is required of every match.
    pub literals: Option<Vec<Vec<u8>>>,
    pub specificity: usize,
}

impl Shape {
    pub fn of(hir: &Hir) -> Shape {
        Shape {
            literals: required_literals(hir),
            specificity: fixed_len(hir),
        }
    }
}

/// Literals, one of which every match of `hir` contains (compared ignoring ASCII case, which only
/// widens the filter); `None` when there is no such set.
pub fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
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

/// How many bytes every match of `hir` spells out, fixed up to case: the literal bytes of a
/// concatenation, the least of an alternation's branches, the minimum repeats of a repetition.
/// `.*` counts nothing. Ranks a longer, more specific message above a shorter one.
pub fn fixed_len(hir: &Hir) -> usize {
    match hir.kind() {
        HirKind::Literal(lit) => lit.0.len(),
        HirKind::Class(class) => usize::from(class_byte(class).is_some()),
        HirKind::Capture(cap) => fixed_len(&cap.sub),
        HirKind::Repetition(rep) => {
            let times = usize::try_from(rep.min).unwrap_or(usize::MAX).min(64);
            fixed_len(&rep.sub).saturating_mul(times)
        }
        HirKind::Alternation(alts) => alts.iter().map(fixed_len).min().unwrap_or(0),
        HirKind::Concat(items) => items.iter().map(fixed_len).sum(),
        _ => 0,
    }
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
