#![no_main]
use libfuzzer_sys::fuzz_target;

use dockdoc::facts::kernel::{self, KernelConfig};
fuzz_target!(|data: &[u8]| {
    // Raw bytes as /proc/config.gz (junk, truncated or valid gzip).
    if let Ok(text) = kernel::gunzip(data) {
        let _ = KernelConfig::parse("/proc/config.gz", &text);
    }
});
