//! KVM for docker-osx: CPU virtualization flags, `/dev/kvm`, the kvm modules and their
//! parameters, and whether `ignore_msrs` is persisted in modprobe.d.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "kvm.cpu_virtualization",
        Bool,
        "the CPU advertises vmx or svm (/proc/cpuinfo)",
    ),
    spec(
        "kvm.cpu_vendor",
        Text,
        "intel, amd or other (/proc/cpuinfo vendor_id)",
    ),
    spec(
        "kvm.hypervisor_guest",
        Bool,
        "this machine is itself a VM (the hypervisor CPU flag)",
    ),
    spec(
        "kvm.device_exists",
        Bool,
        "/dev/kvm exists and is a character device",
    ),
    spec("kvm.device_group", Text, "the group owning /dev/kvm"),
    spec("kvm.device_mode", Text, "/dev/kvm's permission bits, octal"),
    spec(
        "kvm.device_accessible",
        Bool,
        "the judged user can read and write /dev/kvm (by owner, group or other bits against the session's groups)",
    ),
    spec(
        "kvm.module_loaded",
        Bool,
        "the kvm module is loaded or built in (/sys/module/kvm)",
    ),
    spec(
        "kvm.vendor_module_loaded",
        Bool,
        "kvm_intel or kvm_amd is loaded or built in",
    ),
    spec(
        "kvm.ignore_msrs",
        Bool,
        "/sys/module/kvm/parameters/ignore_msrs is Y",
    ),
    spec(
        "kvm.ignore_msrs_persisted",
        Bool,
        "`options kvm ignore_msrs=1` is in /etc/modprobe.d or /usr/lib/modprobe.d (or kvm.ignore_msrs=1 on the kernel command line)",
    ),
    spec(
        "kvm.nested",
        Bool,
        "nested virtualization is on for kvm_intel or kvm_amd",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}

pub fn derive(_facts: &mut Facts) {}
