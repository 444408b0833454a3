#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dockdoc::facts::os::parse_os_release(&text);
    let _ = dockdoc::facts::os::is_wsl_release(&text);
});
