#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dockdoc::facts::docker::daemon_json::parse(&text);
    let _ = dockdoc::facts::host::daemon_json_data_root(&text);
    let flags = dockdoc::facts::docker::exec_start::flags(&text);
    let _ = dockdoc::facts::docker::exec_start::hosts(&flags);
    let _ = dockdoc::facts::docker::exec_start::tlsverify(&flags);
});
