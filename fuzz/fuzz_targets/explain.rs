#![no_main]
use libfuzzer_sys::fuzz_target;

use std::sync::OnceLock;
use dockdoc::explain::{Matcher, normalise};
static MATCHER: OnceLock<Option<Matcher>> = OnceLock::new();
fuzz_target!(|data: &[u8]| {
    let m = MATCHER.get_or_init(|| Matcher::new(&dockdoc::catalog::load_builtin().catalog).ok());
    let text = String::from_utf8_lossy(data);
    let n = normalise(&text);
    if let Some(m) = m {
        let _ = m.scan(&n);
        // A paste is also matched with its hard-wrapped lines rejoined.
        let _ = m.scan_paste(&n);
    }
});
