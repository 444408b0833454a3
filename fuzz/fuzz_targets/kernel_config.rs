#![no_main]
use libfuzzer_sys::fuzz_target;

use dockdoc::facts::kernel::KernelConfig;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = KernelConfig::parse("/boot/config", &text) {
        let _ = c.missing_essentials();
    }
});
