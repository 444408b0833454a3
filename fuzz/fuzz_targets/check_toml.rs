#![no_main]
use libfuzzer_sys::fuzz_target;

use std::path::Path;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loaded = dockdoc::catalog::load_str(Path::new("fuzz.toml"), &text);
    for e in &loaded.errors {
        let _ = e.to_string();
    }
});
