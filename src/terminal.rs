//! Output that cannot be turned against the terminal. Values that come from the machine (user
//! and group names, daemon.json keys, file contents), from a `--facts` file or from a paste are
//! shown through [`visible`] in every format a person reads (text, coloured or not, Markdown,
//! the monitoring formats, `explain`); JSON is written through [`write_json`]. A control
//! character in such a value (ESC starting `ESC c` or a CSI sequence, BS, BEL, CR, a C1 control
//! such as U+009B CSI, a bidirectional override) is shown as a visible escape, never sent raw.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Whether a character would act on the terminal instead of being shown: C0 controls (line
/// feed and tab included: a value is one line), DEL, C1 controls, and the Unicode bidirectional
/// formatting characters, which reorder what follows them on the line.
fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators end a line in some viewers; a zero-width space and
            // a byte-order mark hide in plain sight.
            | '\u{2028}' | '\u{2029}' | '\u{200b}' | '\u{feff}'
        )
}

/// `value` with every character that would act on the terminal shown as an escape: `\n`,
/// `\r`, `\t`, `\x1b` for the other C0 controls and DEL, `\u{9b}` for C1 controls,
/// bidirectional formatting characters, the Unicode line and paragraph separators, the
/// zero-width space and the byte-order mark. Borrowed when there is nothing to escape.
pub fn visible(value: &str) -> Cow<'_, str> {
    if !value.chars().any(acts_on_terminal) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !acts_on_terminal(c) {
            out.push(c);
            continue;
        }
        // Writing to a String cannot fail.
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if u32::from(c) < 0x80 => write!(out, "\\x{:02x}", u32::from(c)),
            c => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

/// `visible` for text of several lines: the line breaks stay, everything else that would act
/// on the terminal is shown as an escape.
pub fn visible_lines(value: &str) -> Cow<'_, str> {
    if !value.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .split('\n')
            .map(visible)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Writes `value` as pretty-printed JSON in which no string carries a raw control character:
/// serde_json escapes the C0 controls already; this also escapes DEL, the C1 controls (U+009B
/// is CSI to many terminals) and the bidirectional formatting characters as `\uXXXX`. The
/// document decodes to the same value.
///
/// # Errors
/// Those of `out`, or of serialising `value`.
pub fn write_json<W: io::Write + ?Sized, T: serde::Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Escaping::default());
    value.serialize(&mut ser)
}

/// serde_json's pretty formatter (two spaces an indent), with [`acts_on_terminal`] characters
/// escaped in strings. The layout is `PrettyFormatter`'s, written with one call per line break
/// instead of one per indent: a report is some 2,000 lines, most of them four levels deep.
#[derive(Default)]
struct Escaping {
    /// The current nesting depth.
    depth: usize,
    /// Whether the innermost array or object has a member yet.
    has_value: bool,
}

/// A line break followed by the indents of the deepest levels a document usually reaches.
const NEWLINE_AND_INDENT: &[u8] = b"\n                                ";

impl Escaping {
    /// A line break, then `depth` indents of two spaces.
    fn new_line<W: io::Write + ?Sized>(&self, writer: &mut W) -> io::Result<()> {
        let width = 1 + 2 * self.depth;
        match NEWLINE_AND_INDENT.get(..width) {
            Some(line) => writer.write_all(line),
            None => {
                writer.write_all(b"\n")?;
                for _ in 0..self.depth {
                    writer.write_all(b"  ")?;
                }
                Ok(())
            }
        }
    }

    fn open<W: io::Write + ?Sized>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: io::Write + ?Sized>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.new_line(writer)?;
        }
        writer.write_all(bracket)
    }

    fn member<W: io::Write + ?Sized>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.new_line(writer)
    }
}

/// Whether every byte is printable ASCII (0x20 to 0x7e), eight bytes at a time: a report's
/// JSON is some 60 KB of strings, each looked at here.
fn printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    // A byte of 0x80 or more sets its high bit itself; below 0x20, subtracting 0x20 borrows
    // into it; 0x7f plus one carries into it. A borrow or carry can only cross into the next
    // byte from a byte that is itself caught, so the test is exact.
    let clean = |w: u64| (w | w.wrapping_sub(0x20 * ONES) | w.wrapping_add(ONES)) & HIGH == 0;
    words
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])))
        .all(clean)
        && tail.iter().all(|b| (0x20..0x7f).contains(b))
}

impl serde_json::ser::Formatter for Escaping {
    fn write_string_fragment<W: io::Write + ?Sized>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Printable ASCII, most of any report, holds nothing to escape.
        if printable_ascii(fragment.as_bytes()) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| acts_on_terminal(*c)) {
            writer.write_all(rest.get(..at).unwrap_or_default().as_bytes())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = rest.get(at + c.len_utf8()..).unwrap_or_default();
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.member(w, first)
    }
    fn end_array_value<W: io::Write + ?Sized>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.member(w, first)
    }
    fn begin_object_value<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: io::Write + ?Sized>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_agrees_with_a_byte_by_byte_test_for_every_byte_in_every_place() {
        let naive = |bytes: &[u8]| bytes.iter().all(|b| (0x20..0x7f).contains(b));
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(printable_ascii(&bytes), naive(&bytes), "{bytes:?}");
                    // Neighbours at the edges of the range, where a borrow or carry could cross.
                    for n in [0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff] {
                        if at + 1 < len {
                            bytes[at + 1] = n;
                            assert_eq!(printable_ascii(&bytes), naive(&bytes), "{bytes:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn controls_become_visible_escapes() {
        assert!(matches!(visible("alice"), Cow::Borrowed("alice")));
        assert_eq!(
            visible("a\u{1b}c\u{1b}7\u{8}\u{7}\u{9b}2J\r\n\t\u{7f}\u{202e}z"),
            "a\\x1bc\\x1b7\\x08\\x07\\u{9b}2J\\r\\n\\t\\x7f\\u{202e}z"
        );
        assert_eq!(visible("café 'x' \\ ✓"), "café 'x' \\ ✓");
        // Characters that break a line or hide in some viewers.
        assert_eq!(
            visible("a\u{2028}b\u{2029}c\u{200b}d\u{feff}e"),
            "a\\u{2028}b\\u{2029}c\\u{200b}d\\u{feff}e"
        );
    }

    #[test]
    fn json_is_laid_out_as_serde_jsons_pretty_printer_does() {
        let mut deep = serde_json::json!({"leaf": [1, {}, [], "x"]});
        for level in 0..20 {
            deep = serde_json::json!({ "level": level, "empty": {}, "none": [], "inner": [deep, null] });
        }
        let mut out = Vec::new();
        write_json(&mut out, &deep).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap()
        );
    }

    #[test]
    fn json_escapes_c1_and_still_decodes_to_the_value() {
        let value = "a\u{1b}[31m\u{9b}2J\u{7f}\u{202e}é✓";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "v": value })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| acts_on_terminal(c) && c != '\n'),
            "{text}"
        );
        assert!(text.contains("\\u009b") && text.contains("é✓"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["v"], value);
    }
}
