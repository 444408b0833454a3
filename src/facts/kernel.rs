//! The kernel: running release against `/usr/lib/modules`, modules loaded, built in or
//! loadable, the kernel config, sysctls, cgroups and the iptables backend.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "kernel.running_release",
        Text,
        "the running kernel release (/proc/sys/kernel/osrelease, as uname -r)",
    ),
    spec(
        "kernel.running_pkgbase",
        Text,
        "the package that ships the running kernel (pkgbase file, else from the release suffix); null if unknown",
    ),
    spec(
        "kernel.installed_releases",
        List,
        "the kernel releases installed under /usr/lib/modules (directories with a vmlinuz or pkgbase)",
    ),
    spec(
        "kernel.running_modules_present",
        Bool,
        "/usr/lib/modules/<running release> exists with a module tree",
    ),
    spec(
        "kernel.running_modules_owned",
        Bool,
        "the running release's module tree belongs to an installed package (false: kept by a hook such as kernel-modules-hook)",
    ),
    spec(
        "kernel.pending_release",
        Text,
        "a different release installed for the running kernel's pkgbase (a reboot would bring it); null if none",
    ),
    spec(
        "kernel.module_support",
        Bool,
        "the kernel can load modules (/proc/modules exists, or CONFIG_MODULES=y)",
    ),
    spec(
        "kernel.modules_loaded",
        List,
        "modules listed in /proc/modules",
    ),
    spec(
        "kernel.required_modules",
        List,
        "the modules Docker needs here: veth, bridge, br_netfilter, overlay, nf_nat and nf_tables or ip_tables per the iptables backend",
    ),
    spec(
        "kernel.modules_unavailable",
        List,
        "required modules neither loaded, built in (modules.builtin or config =y), nor loadable from the running release's tree",
    ),
    spec(
        "kernel.config_source",
        Text,
        "where the kernel config was read (/proc/config.gz, /boot/config-<release>, …); null if none",
    ),
    spec(
        "kernel.config_missing_features",
        List,
        "check-config.sh essentials (CONFIG_*) the running kernel's config lacks",
    ),
    spec("kernel.ip_forward", Bool, "net.ipv4.ip_forward is 1"),
    spec(
        "kernel.cgroup_version",
        Int,
        "2 when cgroup2 is mounted on /sys/fs/cgroup (unified), 1 for v1 or hybrid",
    ),
    spec(
        "kernel.iptables_backend",
        Text,
        "nft or legacy: what /usr/sbin/iptables runs (xtables-nft-multi or xtables-legacy-multi); null if iptables is absent",
    ),
    spec(
        "kernel.iptables_backend_mismatch",
        Bool,
        "tables of the other backend are in use (e.g. iptable_nat loaded while iptables is nft)",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}

pub fn derive(_facts: &mut Facts) {}
