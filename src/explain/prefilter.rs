//! The prefilter: literals every match of a pattern holds, searched Wu–Manber style, so only the
//! few lines that hold one are matched.

use std::ops::ControlFlow;

use super::paste::{PhysicalLines, line_head};
use crate::catalog::literals::Shape;

/// Literals, compared ignoring ASCII case, such that a line matching pattern `p` contains one of
/// the literals owned by `p`.
pub(super) struct Prefilter {
    pub(super) literals: Literals,
    /// For each literal, the pattern it was drawn from.
    owner: Vec<usize>,
}

impl Prefilter {
    /// `None` when a pattern does not parse (no shape) or has no required literal, or the
    /// shortest is too short to skip with: the caller then matches every line.
    pub(super) fn new(patterns: &[Option<&Shape>]) -> Option<Prefilter> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        for (i, shape) in patterns.iter().enumerate() {
            let required = (*shape)?.literals.as_ref()?;
            // A literal holding a newline never occurs in a line, so a pattern requiring it
            // matches no line: it needs no literal in the search.
            for lit in required.iter().filter(|l| !l.contains(&b'\n')) {
                literals.push(lit.clone());
                owner.push(i);
            }
        }
        let literals = Literals::new(literals)?;
        Some(Prefilter { literals, owner })
    }

    /// Calls `found(number, line, patterns)` for each logical line that holds a literal, with the
    /// patterns whose literals it holds; returns the number of physical lines. A line continued
    /// with `\` is searched once joined.
    pub(super) fn candidates<'t>(
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
pub(super) struct Literals {
    /// Lower-cased.
    literals: Vec<Vec<u8>>,
    /// The window: the length of the shortest literal, at most `u8::MAX`.
    pub(super) window: usize,
    /// For each block (three bytes, hashed), how far the window can move when it ends with it;
    /// blocks that share a slot share the smaller shift.
    shift: Vec<u8>,
    /// (block, literal) for each literal whose window-long head ends with the block, by block.
    ends: Vec<(usize, usize)>,
}

impl Literals {
    /// `None` when the shortest literal is too short for the window to move fast: matching
    /// every line is then as quick.
    pub(super) fn new(literals: Vec<Vec<u8>>) -> Option<Literals> {
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
                let block = block(a, b, c);
                let slot = shift.get_mut(block)?;
                *slot = (*slot).min(gap);
                if gap == 0 {
                    ends.push((block, i));
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
    pub(super) fn scan(
        &self,
        hay: &[u8],
        from: usize,
        mut hit: impl FnMut(usize, usize) -> ControlFlow<()>,
    ) {
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
                // The literals are lower-cased. Byte by byte, stopping at the first that
                // differs: most windows are turned away by their first bytes.
                let found = hay
                    .get(start..start + lit.len())
                    .is_some_and(|w| w.iter().zip(lit).all(|(t, l)| t.to_ascii_lowercase() == *l));
                if found && hit(start, i).is_break() {
                    return;
                }
            }
            end += 1;
        }
    }
}

/// The slot of three bytes in the shift table (a multiplicative hash), the same for every ASCII
/// case of them: bit 5 is set in each byte first, which makes a capital its small letter (and a
/// few other bytes collide, which only shortens some shifts). One slot per block, instead of one
/// per case of it: filled with every case, the built-in literals gave 1,740 of the 65,536 slots
/// a shorter shift than the window's, and now 294. Always inlined: the search calls it at every
/// step, and the packaged build (optimised for size) made it a call.
#[inline(always)]
fn block(a: u8, b: u8, c: u8) -> usize {
    let key = u32::from(a | 0x20) << 16 | u32::from(b | 0x20) << 8 | u32::from(c | 0x20);
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
}
