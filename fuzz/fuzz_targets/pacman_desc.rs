#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dockdoc::facts::pacman::parse_desc(&text);
    let _ = dockdoc::facts::pacman::split_entry(&text);
});
