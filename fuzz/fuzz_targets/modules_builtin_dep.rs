#![no_main]
use libfuzzer_sys::fuzz_target;

use dockdoc::facts::kernel;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = kernel::module_names_in_list(&text);
    let _ = kernel::module_names_in_dep(&text);
});
