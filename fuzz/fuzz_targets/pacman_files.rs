#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let files = dockdoc::facts::pacman::parse_files(&text);
    let _ = dockdoc::facts::pacman::kernel_releases(&files);
});
