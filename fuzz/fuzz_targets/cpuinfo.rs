#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dockdoc::facts::kvm::parse_cpuinfo(&text);
    let _ = dockdoc::facts::kvm::modprobe_option(&text, "kvm", "ignore_msrs");
    let _ = dockdoc::facts::kvm::cmdline_option(&text, "kvm", "ignore_msrs");
    let _ = dockdoc::facts::host::meminfo_field(&text, "MemTotal");
    let _ = dockdoc::facts::host::cpu_count(&text);
});
