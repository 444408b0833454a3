#![no_main]
use libfuzzer_sys::fuzz_target;

use dockdoc::facts::user;
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let groups = user::parse_group(&text);
    let passwd = user::parse_passwd(&text);
    for p in passwd.iter().take(8) {
        let _ = user::configured_groups(&groups, &p.name, p.gid);
        let _ = user::group_name(&groups, p.gid);
    }
    let _ = dockdoc::facts::display::user_with_uid(&text, 1000);
});
