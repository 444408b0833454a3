#![no_main]
use libfuzzer_sys::fuzz_target;

use dockdoc::facts::user;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(status) = user::parse_status(&text) {
        let groups = user::parse_group("docker:x:998:alice\nwheel:x:10:\n");
        let _ = user::session_groups(&groups, &status);
    }
});
