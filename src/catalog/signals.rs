//! The signal vocabulary (`checks/data/signals.toml`): what a pasted error can be about, and how
//! each signal is recognised in its words. Checks name the signals that tie a paste to them in
//! their `signals` lists; `dockdoc explain` reads them ([`crate::explain`]).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The built-in vocabulary, embedded at build time.
pub const BUILTIN: (&str, &str) = (
    "checks/data/signals.toml",
    include_str!("../../checks/data/signals.toml"),
);

/// What a signal says about a paste, which sets its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Which daemon the client talked to.
    Endpoint,
    /// The program or unit that failed.
    Component,
    /// The thing it failed on.
    Object,
    /// How it failed (errno words).
    Condition,
    /// A line around the error that bears on its cause, wherever it stands.
    Context,
    /// The paste is about something no check covers.
    Elsewhere,
}

impl Kind {
    /// How much a signal of this kind ties a paste to a check: an object names the thing that
    /// failed, the most specific; an `elsewhere` signal ties nothing.
    pub fn weight(self) -> u32 {
        match self {
            Kind::Object => 3,
            Kind::Endpoint | Kind::Component | Kind::Condition | Kind::Context => 2,
            Kind::Elsewhere => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Endpoint => "endpoint",
            Kind::Component => "component",
            Kind::Object => "object",
            Kind::Condition => "condition",
            Kind::Context => "context",
            Kind::Elsewhere => "elsewhere",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    schema: u32,
    signal: Vec<Signal>,
}

/// One signal: its name, kind, and the patterns any of which is it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub name: String,
    pub kind: Kind,
    pub patterns: Vec<String>,
    /// For context and elsewhere signals: what the line means for the verdict.
    pub note: Option<String>,
    /// For context signals: what to do about it first.
    pub fix: Option<String>,
    /// For components: where to look next when nothing the paste ties fails here.
    pub look: Option<String>,
    /// A weight other than its kind's (a word too common to say much).
    pub weight: Option<u32>,
    /// For elsewhere signals: the paste is certainly about that, and even a matched `explains`
    /// pattern is set aside.
    #[serde(default)]
    pub decisive: bool,
    /// Its required literals, once worked out ([`Signal::literals`]).
    #[serde(skip)]
    literals: OnceLock<Option<Vec<Vec<u8>>>>,
}

impl Signal {
    /// How much the signal ties a paste to a check.
    pub fn weight(&self) -> u32 {
        self.weight.unwrap_or(self.kind.weight())
    }

    /// Literals one of which every match holds, compared ignoring ASCII case
    /// ([`super::literals::required_literals`]); `None` when there is no such set, or a pattern
    /// does not parse. For the built-in vocabulary, build.rs worked them out.
    pub fn literals(&self) -> Option<&[Vec<u8>]> {
        self.literals
            .get_or_init(|| {
                signal_parser()
                    .parse(&self.alternation())
                    .ok()
                    .and_then(|hir| super::literals::required_literals(&hir))
            })
            .as_deref()
    }

    /// The signal's patterns as one, matched without regard to case.
    pub fn pattern(&self) -> String {
        format!("(?i){}", self.alternation())
    }

    /// The signal's patterns as one, as written (its literals, compared ignoring ASCII case, are
    /// those of [`Signal::pattern`], and parsing it needs no case tables).
    pub fn alternation(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            out.push_str("(?:");
            out.push_str(p);
            out.push(')');
        }
        out
    }
}

/// How a signal's pattern is parsed: as bytes, without Unicode classes or case tables (signals
/// are ASCII words; the Unicode case tables cost more to build than a paste takes to read).
pub fn signal_parser() -> regex_syntax::Parser {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
}

#[derive(Debug)]
pub struct Vocabulary {
    pub signals: Vec<Signal>,
}

impl Vocabulary {
    /// Parses a vocabulary file and every pattern in it; the error names the file, the line
    /// and what is wrong.
    ///
    /// # Errors
    /// The text is no vocabulary of schema 1: bad TOML, an unknown field, a duplicate name, a
    /// pattern that does not parse, a signal of no pattern.
    pub fn parse(file: &str, text: &str) -> Result<Vocabulary, String> {
        let vocabulary = Vocabulary::parse_unchecked(file, text)?;
        let at = |name: &str| {
            let line = text
                .find(&format!("name = \"{name}\""))
                .map_or(0, |i| super::line_col(text, i).0);
            format!("{file}:{line}")
        };
        let mut names: Vec<&str> = Vec::new();
        for s in &vocabulary.signals {
            if names.contains(&s.name.as_str()) {
                return Err(format!(
                    "{}: the signal {} is defined twice",
                    at(&s.name),
                    s.name
                ));
            }
            names.push(&s.name);
            if s.patterns.is_empty() {
                return Err(format!(
                    "{}: the signal {} has no pattern",
                    at(&s.name),
                    s.name
                ));
            }
            if let Err(e) = signal_parser().parse(&s.pattern()) {
                return Err(format!("{}: the signal {}: {e}", at(&s.name), s.name));
            }
        }
        Ok(vocabulary)
    }

    /// The TOML alone, its patterns taken as they are (the built-in file's are held to parse by
    /// the catalog test, so a run does not parse a hundred patterns it may never use).
    pub(crate) fn parse_unchecked(file: &str, text: &str) -> Result<Vocabulary, String> {
        let raw: RawVocabulary = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| super::line_col(text, s.start).0);
            format!("{file}:{line}: {}", e.message())
        })?;
        if raw.schema != 1 {
            return Err(format!("{file}: unknown schema {}", raw.schema));
        }
        Ok(Vocabulary {
            signals: raw.signal,
        })
    }

    /// The built-in vocabulary, parsed once (the catalog test holds it to parse).
    pub fn builtin() -> &'static Vocabulary {
        static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
        VOCABULARY.get_or_init(|| {
            let vocabulary =
                Vocabulary::parse_unchecked(BUILTIN.0, BUILTIN.1).unwrap_or(Vocabulary {
                    signals: Vec::new(),
                });
            // The literals build.rs worked out, where the names agree (they always do: the
            // build read this file).
            for (signal, (name, literals)) in vocabulary
                .signals
                .iter()
                .zip(crate::builtin::signal_literals())
            {
                if signal.name == name {
                    let _ = signal.literals.set(literals);
                }
            }
            vocabulary
        })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.signals.iter().position(|s| s.name == name)
    }
}

/// The built-in prevalence table: in how many public threads each check's cause was settled.
pub const PREVALENCE: (&str, &str) = (
    "checks/data/prevalence.toml",
    include_str!("../../checks/data/prevalence.toml"),
);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrevalence {
    schema: u32,
    threads: std::collections::BTreeMap<String, u32>,
}

/// In how many public threads the cause `id` was settled (0: none known, or a user's check).
pub fn prevalence(id: &str) -> u32 {
    static TABLE: OnceLock<std::collections::BTreeMap<String, u32>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            toml::from_str::<RawPrevalence>(PREVALENCE.1)
                .ok()
                .filter(|t| t.schema == 1)
                .map(|t| t.threads)
                .unwrap_or_default()
        })
        .get(id)
        .copied()
        .unwrap_or(0)
}
