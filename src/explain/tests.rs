//! Unit tests of the prefilter, the matcher and the paste reader: the prefiltered, streamed
//! scan finds what matching every line against every pattern finds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::ops::ControlFlow;

use super::matcher::{Match, Matcher, SubSet, tally};
use super::paste::{MAX_LINE_BYTES, READ_BLOCK, logical_lines, normalise, scan_input};
use super::prefilter::{Literals, Prefilter};
use crate::catalog::literals::{Shape, required_literals};

#[test]
fn normalise_makes_typographic_quotes_ascii() {
    // GNU ls in a UTF-8 locale, and a forum's rendering of an apostrophe.
    let raw = "ls: cannot access \u{2018}/var/run/docker.sock\u{2019}: No such file or directory\nit couldn\u{2019}t connect, \u{201C}quoted\u{201D}\n";
    assert_eq!(
        normalise(raw),
        "ls: cannot access '/var/run/docker.sock': No such file or directory\nit couldn't connect, \"quoted\"\n"
    );
    let plain = "no quotes \u{2014} a dash only\n";
    assert!(matches!(
        super::paste::normalised(plain),
        std::borrow::Cow::Borrowed(_)
    ));
}

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
    let ok = Shape::of(&regex_syntax::Parser::new().parse("cannot connect").unwrap());
    assert!(Prefilter::new(&[Some(&ok)]).is_some());
    assert!(Prefilter::new(&[Some(&ok), None]).is_none());
    let bad = crate::catalog::Pattern::builtin("(unclosed");
    assert!(bad.hir().is_none());
    assert!(!bad.is_match("(unclosed"));
    let good = crate::catalog::Pattern::builtin("docker\\.sock");
    assert!(good.hir().is_some());
    assert!(bad.shape().is_none());
    assert!(good.shape().is_some());
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
        let shapes: Vec<Shape> = patterns
            .iter()
            .map(|p| Shape::of(&regex_syntax::Parser::new().parse(p).unwrap()))
            .collect();
        Matcher::with_patterns(
            patterns.iter().map(|p| (*p).to_owned()).collect(),
            &shapes.iter().map(Some).collect::<Vec<_>>(),
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
    let streamed = scan_input(&m, reader).unwrap().0;
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
    let streamed = scan_input(m, reader).unwrap().0;
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
