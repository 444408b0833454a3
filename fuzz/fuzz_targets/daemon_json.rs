#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for reader in [
        dockdoc::facts::docker::daemon_json::Reader::Since23,
        dockdoc::facts::docker::daemon_json::Reader::Before23,
    ] {
        let _ = dockdoc::facts::docker::daemon_json::parse(data, &reader);
    }
    let _ = dockdoc::facts::host::daemon_json_data_root(&text);
    let flags = dockdoc::facts::docker::exec_start::flags(&text);
    let _ = dockdoc::facts::docker::exec_start::hosts(&flags);
    let _ = dockdoc::facts::docker::exec_start::tlsverify(&flags);
});
