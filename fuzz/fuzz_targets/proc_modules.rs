#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dockdoc::facts::kernel::parse_proc_modules(data);
});
