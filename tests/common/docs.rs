//! docs/checks.md's generated parts: the index (`dockdoc list --format markdown`, each id a link
//! to its entry) and one entry per check, written from the built-in catalog and the evidence
//! table (tests/snapshots/evidence.md). The prose between them is written by hand; an entry links
//! to the sections of that prose that name its check. `tests/readme.rs` fails when the file is
//! stale; `DOCKDOC_BLESS=1 cargo test --test readme` (or the evidence table's own regeneration,
//! `DOCKDOC_BLESS=1 cargo test --test scenarios evidence`) rewrites it.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dockdoc::catalog::{Check, FixStep, load_builtin};

use super::evidence;

pub const INDEX_START: &str = "<!-- index: generated from `dockdoc list --format markdown` by tests/common/docs.rs; DOCKDOC_BLESS=1 cargo test --test readme -->\n";
pub const INDEX_END: &str = "<!-- end of index -->";
pub const ENTRIES_START: &str = "<!-- entries: generated from checks/*.toml and tests/snapshots/evidence.md by tests/common/docs.rs; DOCKDOC_BLESS=1 cargo test --test readme -->\n";
pub const ENTRIES_END: &str = "<!-- end of entries -->";

pub fn checks_md_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md")
}

/// GitHub's anchor for a heading: lower case, only letters, digits, `-` and `_`, spaces made `-`.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The span between `start` and `end` in `text`, as byte offsets of its content.
pub fn block(text: &str, start: &str, end: &str) -> Option<(usize, usize)> {
    let a = text.find(start)? + start.len();
    let b = text[a..].find(end)? + a;
    Some((a, b))
}

/// The lines of a Markdown text that are not in a fenced code block (nor its fences).
pub fn outside_code_blocks(text: &str) -> impl Iterator<Item = &str> {
    let mut fence = false;
    text.lines().filter(move |line| {
        if line.starts_with("```") {
            fence = !fence;
            return false;
        }
        !fence
    })
}

/// `<` outside code spans would be read as HTML by the renderer: written as `&lt;` there.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 0 {
            out.push_str(&part.replace('<', "&lt;"));
        } else {
            out.push_str(part);
        }
    }
    out
}

fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn kinds(list: &[String]) -> String {
    match list.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!(
            "{} and `{last}`",
            rest.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some((last, _)) => format!("`{last}`"),
        None => String::new(),
    }
}

/// A run of the evidence table, linked to what it names: a scenario file or a live test.
fn run_link(run: &str) -> String {
    if let Some(name) = run.strip_prefix("scenario ") {
        format!("scenario [{name}](../tests/fixtures/scenarios/{name}.toml)")
    } else if let Some(test) = run.strip_prefix("live ") {
        let module = test.split("::").next().unwrap_or(test);
        format!("live test [`{test}`](../tests/live/{module}.rs)")
    } else {
        run.to_owned()
    }
}

fn step(out: &mut String, n: usize, f: &FixStep) {
    let _ = writeln!(out, "{n}. {}", prose(&f.step));
    if let Some(cmd) = &f.command {
        let _ = writeln!(out, "   <br>{}", code(cmd));
    }
    let mut facts = vec![format!("tier `{}`", f.tier().as_str())];
    if let Some(changes) = &f.changes {
        facts.push(format!("changes: {}", prose(changes)));
    }
    if let Some(undo) = &f.undo {
        facts.push(format!("undo: {}", code(undo)));
    }
    if !f.writes.is_empty() {
        let files: Vec<String> = f.writes.iter().map(|w| code(w)).collect();
        facts.push(format!("writes {}", files.join(", ")));
    }
    if let Some(kinds_) = &f.endpoints {
        facts.push(format!("only for {} daemons", kinds(kinds_)));
    }
    if f.when.is_some() {
        facts.push("only where its `when` condition holds".to_owned());
    }
    let _ = writeln!(out, "   <br>{}", facts.join("; "));
}

/// The sections of the hand-written prose (between the index and the entries) that name each
/// check in backticks, as (heading, anchor), in order.
fn mentions(hand: &str, id: &str) -> Vec<(String, String)> {
    let needle = format!("`{id}`");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut heading: Option<String> = None;
    for line in outside_code_blocks(hand) {
        if let Some(h) = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
        {
            heading = Some(h.trim().to_owned());
            continue;
        }
        if let Some(h) = &heading
            && line.contains(&needle)
            && !out.iter().any(|(seen, _)| seen == h)
        {
            out.push((h.clone(), slug(h)));
        }
    }
    out
}

fn entry(out: &mut String, c: &Check, area_title: &str, hand: &str, row: Option<&evidence::Row>) {
    let _ = writeln!(out, "### `{}`\n", c.id);
    let _ = writeln!(out, "**{}**\n", prose(&c.title));
    let mut facts = vec![
        format!("area `{}` ({})", c.area, prose(area_title)),
        format!("severity `{}`", c.severity.as_str()),
        format!(
            "profiles {}",
            c.profiles
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        match &c.endpoints {
            Some(k) => format!("judges {} daemons only", kinds(k)),
            None => "judges every kind of daemon".to_owned(),
        },
    ];
    if let Some(from) = &c.severity_from {
        facts.push(format!(
            "when it fails, the severity is the value of `{from}`"
        ));
    }
    if !c.consequence_of.is_empty() {
        let causes: Vec<String> = c
            .consequence_of
            .iter()
            .map(|id| format!("[`{id}`](#{id})"))
            .collect();
        facts.push(format!(
            "listed under {} when that fails too",
            causes.join(" or ")
        ));
    }
    if let Some(w) = &c.waits_for {
        facts.push(format!("after a fix, waits for a {w}"));
    }
    let _ = writeln!(out, "{}.\n", facts.join("; "));
    let _ = writeln!(out, "{}\n", prose(c.why.trim_end()));
    if !c.fix.is_empty() {
        let _ = writeln!(out, "Fix:\n");
        for (i, f) in c.fix.iter().enumerate() {
            step(out, i + 1, f);
        }
        out.push('\n');
    }
    if !c.explains.is_empty() {
        let sample = format!("tests/error-samples/{}.txt", c.id);
        let samples = if Path::new(env!("CARGO_MANIFEST_DIR")).join(&sample).exists() {
            format!(", written from the real messages in [{sample}](../{sample})")
        } else {
            String::new()
        };
        let n = c.explains.len();
        let _ = writeln!(
            out,
            "Explains pasted errors: {n} pattern{}{samples}.\n",
            if n == 1 { "" } else { "s" }
        );
    }
    if !c.references.is_empty() {
        let _ = writeln!(out, "References: {}.\n", c.references.join(", "));
    }
    let seen = |slot: Option<&(String, String)>| match slot {
        Some((run, part)) => format!("{} (on {})", run_link(run), prose(part)),
        None => "no run yet".to_owned(),
    };
    let _ = writeln!(
        out,
        "Evidence: evaluated to fail in {}; to pass in {}.\n",
        seen(row.and_then(|r| r.fail.as_ref())),
        seen(row.and_then(|r| r.pass.as_ref()))
    );
    let notes = mentions(hand, &c.id);
    if !notes.is_empty() {
        let links: Vec<String> = notes
            .iter()
            .map(|(h, a)| format!("[{}](#{a})", prose(h)))
            .collect();
        let _ = writeln!(out, "More on this page: {}.\n", links.join(", "));
    }
    let file = c.origin.file.to_string_lossy();
    let _ = writeln!(out, "Defined in [{file}](../{file}).\n");
}

/// The index: `dockdoc list --format markdown`, each id a link to its entry.
pub fn index(list_markdown: &str) -> String {
    let mut out = String::new();
    for line in list_markdown.lines() {
        match line
            .strip_prefix("| `")
            .and_then(|rest| rest.split_once("` |"))
        {
            Some((id, rest)) => {
                let _ = writeln!(out, "| [`{id}`](#{id}) |{rest}");
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The ids of the index, in its order.
fn index_ids(list_markdown: &str) -> Vec<String> {
    list_markdown
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`'))
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// docs/checks.md as it should be, given its current text (whose hand-written parts are kept).
pub fn checks_md(current: &str) -> String {
    let out = super::bin()
        .args(["list", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success(), "dockdoc list failed");
    let list = String::from_utf8(out.stdout).unwrap();
    let catalog = load_builtin().catalog;
    let rows = evidence::committed();
    let (ia, ib) =
        block(current, INDEX_START, INDEX_END).expect("docs/checks.md lacks the index markers");
    let (ea, eb) = block(current, ENTRIES_START, ENTRIES_END)
        .expect("docs/checks.md lacks the entries markers");
    let hand = &current[ib..ea];
    let mut entries = String::new();
    for id in index_ids(&list) {
        let c = catalog.get(&id).expect("listed check in the catalog");
        entry(
            &mut entries,
            c,
            catalog.area_title(&c.area),
            hand,
            rows.get(&id),
        );
    }
    format!(
        "{}{}{}{}{}",
        &current[..ia],
        index(&list),
        hand,
        entries,
        &current[eb..]
    )
}
