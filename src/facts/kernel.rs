//! The kernel: running release against `/usr/lib/modules`, modules loaded, built in or
//! loadable, the kernel config, sysctls, cgroups and the iptables backend.
//!
//! The post-upgrade diagnosis lives here: after `pacman -Syu` replaces the `linux` package,
//! `/usr/lib/modules/<running release>` is gone, so every module Docker needs that is not
//! already loaded (or built in) has become unavailable until the next reboot.

use std::collections::BTreeSet;
use std::io::Read;
use std::ops::Range;

use flate2::read::GzDecoder;

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};
use crate::error::ProbeError;

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
    spec(
        "kernel.config_complete",
        Bool,
        "the kernel config has every check-config.sh essential (config_missing_features is empty)",
    ),
    spec(
        "kernel.config_missing_ipset",
        List,
        "the ipset options Docker 28.0.0's bridge driver needed that the running kernel's config lacks: CONFIG_IP_SET, CONFIG_IP_SET_HASH_NET, CONFIG_NETFILTER_XT_SET",
    ),
    spec(
        "kernel.config_missing_prerequisites",
        List,
        "for each missing essential whose Kconfig dependency is off too: `CONFIG_X needs CONFIG_Y` (e.g. CGROUP_BPF needs BPF_SYSCALL)",
    ),
    spec(
        "kernel.arch",
        Text,
        "the running kernel's architecture (/proc/sys/kernel/arch, as uname -m: x86_64, aarch64, armv7l, …)",
    ),
    spec(
        "kernel.stock_kernel_package",
        Text,
        "the stock kernel package to suggest for this architecture: linux-lts on x86_64 (Arch Linux), linux-aarch64 or linux-armv7 on Arch Linux ARM; null for others",
    ),
    spec("kernel.ip_forward", Bool, "net.ipv4.ip_forward is 1"),
    spec(
        "kernel.cgroup_version",
        Int,
        "2 when cgroup2 is mounted on /sys/fs/cgroup (unified), 1 for v1 or hybrid",
    ),
    spec(
        "kernel.cmdline",
        Text,
        "the kernel command line (/proc/cmdline)",
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
    spec(
        "kernel.iptables_legacy_missing",
        List,
        "what the running kernel lacks for the legacy iptables tables: the options its config leaves off (CONFIG_NETFILTER_XTABLES_LEGACY from 6.17 on, CONFIG_IP_NF_IPTABLES_LEGACY, CONFIG_IP_NF_FILTER, CONFIG_IP_NF_NAT), or without a config the modules (iptable_filter, iptable_nat) neither built in nor in the running release's tree; empty when ip_tables is loaded",
    ),
    spec(
        "kernel.iptables_legacy_available",
        Bool,
        "the running kernel can provide the legacy iptables tables (kernel.iptables_legacy_missing is empty)",
    ),
];

const MODULES_DIR: &str = "/usr/lib/modules";
const PACMAN_LOCAL: &str = "/var/lib/pacman/local";

/// Entries of /usr/lib/modules that are not kernel releases: kernel-modules-hook's copy of
/// the running tree and the places it and its forks move old trees to.
const NOT_RELEASES: &[&str] = &["running-kernel", ".old", "backup"];

/// The modules Docker's default bridge network and overlay2 storage need, always.
const BASE_MODULES: &[&str] = &["veth", "bridge", "br_netfilter", "overlay", "nf_nat"];

/// The kernel config option that builds each required module.
const MODULE_OPTIONS: &[(&str, &str)] = &[
    ("veth", "VETH"),
    ("bridge", "BRIDGE"),
    ("br_netfilter", "BRIDGE_NETFILTER"),
    ("overlay", "OVERLAY_FS"),
    ("nf_nat", "NF_NAT"),
    ("nf_tables", "NF_TABLES"),
    ("ip_tables", "IP_NF_IPTABLES"),
];

/// moby `contrib/check-config.sh`, "Generally Necessary", for kernels >= 5.8 (the
/// version-conditional NF_NAT_IPV4, NF_NAT_NEEDED, DEVPTS_MULTIPLE_INSTANCES and MEMCG_SWAP
/// only apply to older kernels; CGROUP_BPF applies from 4.15 on).
pub const ESSENTIAL_OPTIONS: &[&str] = &[
    "NAMESPACES",
    "NET_NS",
    "PID_NS",
    "IPC_NS",
    "UTS_NS",
    "CGROUPS",
    "CGROUP_CPUACCT",
    "CGROUP_DEVICE",
    "CGROUP_FREEZER",
    "CGROUP_SCHED",
    "CPUSETS",
    "MEMCG",
    "KEYS",
    "VETH",
    "BRIDGE",
    "BRIDGE_NETFILTER",
    "IP_NF_FILTER",
    "IP_NF_MANGLE",
    "IP_NF_TARGET_MASQUERADE",
    "IP6_NF_FILTER",
    "IP6_NF_MANGLE",
    "IP6_NF_TARGET_MASQUERADE",
    "NETFILTER_XT_MATCH_ADDRTYPE",
    "NETFILTER_XT_MATCH_CONNTRACK",
    "NETFILTER_XT_MATCH_IPVS",
    "NETFILTER_XT_MARK",
    "IP_NF_RAW",
    "IP_NF_NAT",
    "NF_NAT",
    "IP6_NF_RAW",
    "IP6_NF_NAT",
    "POSIX_MQUEUE",
    "CGROUP_BPF",
];

/// Kconfig dependencies of essentials that a config cannot enable without them: CGROUP_BPF
/// `depends on BPF_SYSCALL` (init/Kconfig; runc's "load program: invalid argument" on Arch
/// Linux ARM kernels without it, opencontainers/runc#2959), BRIDGE_NETFILTER `depends on BRIDGE
/// && NETFILTER && INET` (net/Kconfig).
pub const PREREQUISITES: &[(&str, &[&str])] = &[
    ("CGROUP_BPF", &["BPF_SYSCALL"]),
    ("BRIDGE_NETFILTER", &["BRIDGE", "NETFILTER"]),
];

/// The stock kernel package with Docker's features for each architecture (`uname -m`): Arch
/// Linux's linux-lts on x86_64; Arch Linux ARM has no linux-lts, its generic kernels are
/// linux-aarch64 and linux-armv7.
const STOCK_KERNELS: &[(&str, &str)] = &[
    ("x86_64", "linux-lts"),
    ("aarch64", "linux-aarch64"),
    ("armv7l", "linux-armv7"),
];

/// Decompressed kernel configs larger than this are refused (real ones are about 300 KiB).
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// What Docker 28.0.0's bridge driver needed: at v28.0.0 it creates `hash:net` ipsets
/// (`libnetwork/drivers/bridge/bridge_linux.go`, setupHashNetIpset) and matches them with
/// `-m set`; moby/moby#49510 added these options to `contrib/check-config.sh` after the release,
/// and 28.0.1 dropped ipset again (moby/moby#49530) and reverted that.
const IPSET_OPTIONS: &[&str] = &["IP_SET", "IP_SET_HASH_NET", "NETFILTER_XT_SET"];

/// Files visited at most when a module tree has no modules.dep and must be walked.
const MAX_WALK_ENTRIES: usize = 200_000;

pub fn gather(ctx: &Context, facts: &mut Facts) {
    let release = running_release(ctx);
    facts.set("kernel.running_release", to_fact(&release, Value::from));
    let release = release.ok();

    facts.set(
        "kernel.cmdline",
        match ctx.sysroot.read_string("/proc/cmdline") {
            Ok(s) => Fact::known(s.trim().to_owned()),
            Err(e) => Fact::unknown(e.to_string()),
        },
    );

    // Installed releases and their pkgbase files.
    let installed = installed_releases(ctx);
    facts.set(
        "kernel.installed_releases",
        to_fact(&installed, |list| {
            Value::List(list.iter().map(|r| r.release.clone()).collect())
        }),
    );

    let running_dir = release.as_ref().map(|r| format!("{MODULES_DIR}/{r}"));
    let tree = running_dir.as_deref().map(|dir| ModuleTree::read(ctx, dir));

    // The running kernel's package base and a pending release of the same package base.
    let pkgbase = match (&release, &running_dir) {
        (Some(r), Some(dir)) => running_pkgbase(ctx, dir, r),
        _ => Err("the running release is unknown".to_owned()),
    };
    facts.set("kernel.running_pkgbase", to_fact(&pkgbase, Value::from));
    let pending = match (&release, &pkgbase, &installed) {
        (Some(r), Ok(base), Ok(list)) => Ok(pending_release(r, base.as_deref(), list)),
        (None, _, _) => Err("the running release is unknown".to_owned()),
        (_, Err(e), _) | (_, _, Err(e)) => Err(e.clone()),
    };
    facts.set("kernel.pending_release", to_fact(&pending, Value::from));

    let present = match &tree {
        Some(t) => Ok(t.present()),
        None => Err("the running release is unknown".to_owned()),
    };
    facts.set(
        "kernel.running_modules_present",
        to_fact(&present, Value::from),
    );
    let owned = match (&release, &tree) {
        (Some(r), Some(t)) => modules_owned(ctx, r, t),
        _ => Err("the running release is unknown".to_owned()),
    };
    facts.set("kernel.running_modules_owned", to_fact(&owned, Value::from));

    // The kernel config.
    let config = read_config(ctx, release.as_deref());
    match &config {
        Ok(Some(c)) => {
            facts.set("kernel.config_source", Fact::known(c.source.clone()));
            let missing = c.missing_essentials();
            facts.set(
                "kernel.config_missing_prerequisites",
                Fact::known(c.missing_prerequisites()),
            );
            facts.set("kernel.config_complete", Fact::known(missing.is_empty()));
            facts.set("kernel.config_missing_features", Fact::known(missing));
            facts.set(
                "kernel.config_missing_ipset",
                Fact::known(c.missing_of(IPSET_OPTIONS)),
            );
        }
        Ok(None) => {
            facts.set("kernel.config_source", Fact::known(Value::Null));
            let why = config_absent_reason(release.as_deref());
            facts.set("kernel.config_missing_features", Fact::unknown(why.clone()));
            facts.set("kernel.config_missing_ipset", Fact::unknown(why.clone()));
            facts.set(
                "kernel.config_missing_prerequisites",
                Fact::unknown(why.clone()),
            );
            facts.set("kernel.config_complete", Fact::unknown(why));
        }
        Err(e) => {
            for key in [
                "kernel.config_source",
                "kernel.config_missing_features",
                "kernel.config_missing_ipset",
                "kernel.config_missing_prerequisites",
                "kernel.config_complete",
            ] {
                facts.set(key, Fact::unknown(e.clone()));
            }
        }
    }
    let config = config.ok().flatten();

    // Module support and the loaded modules.
    let proc_modules = read_proc_modules(ctx);
    let support = module_support(&proc_modules, config.as_ref());
    facts.set("kernel.module_support", to_fact(&support, Value::from));
    let loaded: Result<Vec<String>, String> = match (&proc_modules, &support) {
        (Ok(Some(list)), _) => Ok(list.clone()),
        (Err(e), _) => Err(e.clone()),
        (Ok(None), Ok(false)) => Ok(Vec::new()),
        (Ok(None), Ok(true)) => Err(
            "/proc/modules: not found, although the kernel config says modules are supported"
                .to_owned(),
        ),
        (Ok(None), Err(e)) => Err(format!("/proc/modules: not found; {e}")),
    };
    facts.set("kernel.modules_loaded", to_fact(&loaded, Value::from));

    // iptables.
    let backend = iptables_backend(ctx);
    facts.set("kernel.iptables_backend", to_fact(&backend, Value::from));
    let mismatch = match (&backend, &loaded) {
        (Ok(b), Ok(l)) => Ok(backend_mismatch(b.as_deref(), l)),
        (Ok(None), Err(_)) => Ok(false),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    facts.set(
        "kernel.iptables_backend_mismatch",
        to_fact(&mismatch, Value::from),
    );

    let legacy = legacy_missing(config.as_ref(), &loaded, tree.as_ref(), release.is_some());
    facts.set(
        "kernel.iptables_legacy_available",
        to_fact(&legacy, |m| Value::Bool(m.is_empty())),
    );
    facts.set(
        "kernel.iptables_legacy_missing",
        to_fact(&legacy, Value::from),
    );

    let required = required_modules(backend.as_ref().ok().and_then(|b| b.as_deref()));
    facts.set("kernel.required_modules", Fact::known(required.clone()));
    let unavailable = modules_unavailable(
        &required,
        &loaded,
        &support,
        config.as_ref(),
        tree.as_ref(),
        release.is_some(),
    );
    facts.set(
        "kernel.modules_unavailable",
        to_fact(&unavailable, Value::from),
    );

    facts.set("kernel.ip_forward", to_fact(&ip_forward(ctx), Value::from));
    let arch = kernel_arch(ctx);
    facts.set(
        "kernel.stock_kernel_package",
        to_fact(&arch, |a| Value::from(stock_kernel(&a))),
    );
    facts.set("kernel.arch", to_fact(&arch, Value::from));
    facts.set(
        "kernel.cgroup_version",
        to_fact(&cgroup_version(ctx), Value::Int),
    );
}

pub fn derive(_facts: &mut Facts) {}

fn to_fact<T>(r: &Result<T, String>, f: impl FnOnce(T) -> Value) -> Fact
where
    T: Clone,
{
    match r {
        Ok(v) => Fact::known(f(v.clone())),
        Err(e) => Fact::unknown(e.clone()),
    }
}

fn running_release(ctx: &Context) -> Result<String, String> {
    const FILE: &str = "/proc/sys/kernel/osrelease";
    let text = ctx.sysroot.read_string(FILE).map_err(|e| e.to_string())?;
    let release = text.trim();
    if is_plausible_release(release) {
        Ok(release.to_owned())
    } else {
        Err(format!("{FILE}: does not hold a kernel release"))
    }
}

/// A kernel release is one short line of printable ASCII without `/`.
fn is_plausible_release(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != '\\')
}

#[derive(Clone, Debug)]
struct Installed {
    release: String,
    pkgbase: Option<String>,
}

fn installed_releases(ctx: &Context) -> Result<Vec<Installed>, String> {
    let names = match ctx.sysroot.read_dir_names(MODULES_DIR) {
        Ok(n) => n,
        Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for name in names {
        if NOT_RELEASES.contains(&name.as_str()) || name.starts_with('.') {
            continue;
        }
        let dir = format!("{MODULES_DIR}/{name}");
        if !is_dir(ctx, &dir) {
            continue;
        }
        let has_pkgbase = ctx.sysroot.exists(&format!("{dir}/pkgbase"));
        if !has_pkgbase && !ctx.sysroot.exists(&format!("{dir}/vmlinuz")) {
            continue;
        }
        let pkgbase = read_pkgbase(ctx, &dir);
        out.push(Installed {
            release: name,
            pkgbase,
        });
    }
    out.sort_by(|a, b| version_cmp(&a.release, &b.release));
    Ok(out)
}

/// The first line of `<dir>/pkgbase`, when it is there and looks like a package name.
fn read_pkgbase(ctx: &Context, dir: &str) -> Option<String> {
    let text = ctx
        .sysroot
        .read_optional(&format!("{dir}/pkgbase"))
        .ok()
        .flatten()?;
    let name = text.lines().next()?.trim();
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c));
    valid.then(|| name.to_owned())
}

fn running_pkgbase(ctx: &Context, dir: &str, release: &str) -> Result<Option<String>, String> {
    Ok(read_pkgbase(ctx, dir).or_else(|| pkgbase_from_release(release).map(str::to_owned)))
}

/// The Arch kernel package a release string belongs to, from its suffix
/// (`6.6.52-1-lts`, `6.10.10-zen1-1-zen`, `6.10.5-arch1-1`).
pub fn pkgbase_from_release(release: &str) -> Option<&'static str> {
    [
        ("-lts", "linux-lts"),
        ("-zen", "linux-zen"),
        ("-hardened", "linux-hardened"),
        ("-rt", "linux-rt"),
    ]
    .into_iter()
    .find(|(suffix, _)| release.ends_with(suffix))
    .map(|(_, base)| base)
    .or_else(|| release.contains("-arch").then_some("linux"))
}

fn pending_release(
    running: &str,
    pkgbase: Option<&str>,
    installed: &[Installed],
) -> Option<String> {
    let base = pkgbase?;
    installed
        .iter()
        .filter(|i| i.release != running && i.pkgbase.as_deref() == Some(base))
        .max_by(|a, b| version_cmp(&a.release, &b.release))
        .map(|i| i.release.clone())
}

/// Compares release strings by their numeric and non-numeric runs (`6.9.1` < `6.10.0`).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out: Vec<(bool, &str)> = Vec::new();
        let mut rest = s;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            out.push((digit, run));
            rest = tail;
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(rb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ra.len().cmp(&rb.len())
}

/// What the running release's module directory holds.
struct ModuleTree {
    dir: String,
    exists: bool,
    has_dep: bool,
    has_kernel_dir: bool,
    /// Module names from modules.builtin; `None` when the file is absent or unreadable.
    builtin: Option<BTreeSet<String>>,
    /// Module names with a file in the tree (from modules.dep, else by walking `kernel/`).
    loadable: Result<BTreeSet<String>, String>,
}

impl ModuleTree {
    fn read(ctx: &Context, dir: &str) -> ModuleTree {
        let exists = is_dir(ctx, dir);
        let dep_file = format!("{dir}/modules.dep");
        let kernel_dir = format!("{dir}/kernel");
        let has_dep = exists && ctx.sysroot.metadata(&dep_file).is_ok_and(|m| m.is_file());
        let has_kernel_dir = exists && is_dir(ctx, &kernel_dir);
        let builtin = if exists {
            match ctx.sysroot.read_optional(&format!("{dir}/modules.builtin")) {
                Ok(Some(text)) => Some(module_names_in_list(&text)),
                _ => None,
            }
        } else {
            None
        };
        let loadable = if !exists {
            Ok(BTreeSet::new())
        } else if has_dep {
            ctx.sysroot
                .read_string(&dep_file)
                .map(|t| module_names_in_dep(&t))
                .map_err(|e| e.to_string())
        } else if has_kernel_dir {
            walk_modules(ctx, &kernel_dir)
        } else {
            Ok(BTreeSet::new())
        };
        ModuleTree {
            dir: dir.to_owned(),
            exists,
            has_dep,
            has_kernel_dir,
            builtin,
            loadable,
        }
    }

    fn present(&self) -> bool {
        self.exists && (self.has_dep || self.has_kernel_dir)
    }
}

/// The module name of a module file path: basename up to `.ko`, `-` folded to `_`
/// (`kernel/net/bridge/br_netfilter.ko.zst` → `br_netfilter`).
pub fn module_name(path: &str) -> Option<String> {
    let base = path.rsplit('/').next()?;
    let (stem, after) = base.split_once(".ko")?;
    if !(after.is_empty() || after.starts_with('.')) {
        return None;
    }
    (!stem.is_empty()).then(|| stem.replace('-', "_"))
}

/// Module names of a modules.builtin (or modules.order) file: one path per line.
pub fn module_names_in_list(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(|l| module_name(l.trim())).collect()
}

/// Module names of a modules.dep file: `path: dep dep …` per line.
pub fn module_names_in_dep(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split(':').next())
        .filter_map(|p| module_name(p.trim()))
        .collect()
}

/// Whether a directory is at the path inside the sysroot (following symlinks inside it).
fn is_dir(ctx: &Context, inside: &str) -> bool {
    ctx.sysroot.metadata(inside).is_ok_and(|m| m.is_dir())
}

/// The module names of the files under `top` (a path inside the sysroot); symlinks to
/// directories are not walked into.
fn walk_modules(ctx: &Context, top: &str) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![top.to_owned()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let entries = ctx
            .sysroot
            .read_dir_entries(&dir)
            .map_err(|e| e.to_string())?;
        for entry in entries {
            seen += 1;
            if seen > MAX_WALK_ENTRIES {
                return Err(format!(
                    "{top}: more than {MAX_WALK_ENTRIES} entries, not walking further"
                ));
            }
            if entry.is_dir {
                stack.push(format!("{dir}/{}", entry.name));
            } else if let Some(name) = module_name(&entry.name) {
                out.insert(name);
            }
        }
    }
    Ok(out)
}

/// Whether an installed package owns `usr/lib/modules/<release>/`: reads the `files` lists of
/// the `linux*` entries of pacman's local database.
fn modules_owned(ctx: &Context, release: &str, tree: &ModuleTree) -> Result<bool, String> {
    if !tree.exists {
        return Ok(false);
    }
    let entries = ctx
        .sysroot
        .read_dir_names_with_prefix(PACMAN_LOCAL, &["linux"])
        .map_err(|e| e.to_string())?;
    let wanted = format!("usr/lib/modules/{release}/");
    for entry in &entries {
        let file = format!("{PACMAN_LOCAL}/{entry}/files");
        let text = match ctx.sysroot.read_optional(&file) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => return Err(e.to_string()),
        };
        if files_section(&text).any(|p| p == wanted) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The paths of the `%FILES%` section of a pacman local-db `files` file.
fn files_section(text: &str) -> impl Iterator<Item = &str> {
    let mut in_files = false;
    text.lines().filter_map(move |line| {
        let line = line.trim_end();
        if line.starts_with('%') && line.ends_with('%') {
            in_files = line == "%FILES%";
            return None;
        }
        (in_files && !line.is_empty()).then_some(line)
    })
}

/// A parsed kernel .config: option name without `CONFIG_` → value (`y`, `m`, `n` for
/// `# CONFIG_X is not set`, or the literal value).
///
/// A distribution config has about 10,000 lines and dockdoc asks for a few dozen options
/// ([`asked_options`]), so the text is kept whole and only the lines of those options are
/// indexed; any other option is found by a pass over the text.
#[derive(Debug)]
pub struct KernelConfig {
    pub source: String,
    text: String,
    /// The hashes of [`asked_options`], sorted: an option whose hash is here is looked up in
    /// `index`.
    asked: Vec<u64>,
    /// (hash of the name, name, value) of every line whose name hashes into `asked`: byte
    /// ranges into `text`, sorted by the hash, stable (so of two lines for one option the
    /// later comes later); a value of `None` is an option that is not set.
    index: Vec<(u64, Range<usize>, Option<Range<usize>>)>,
}

/// FNV-1a over an option's name: cheap, and names differ enough that equal hashes are rare
/// (a lookup compares the names of equal hashes anyway).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Every option the kernel probes read from a config. Indexing only these, rather than
/// sorting all 4,000 to 10,000 lines of a config, and finding line ends and `=` with memchr,
/// took the parse of a 100 KB config from 4.3 M to 2.2 M instructions (callgrind, dist
/// profile).
fn asked_options() -> impl Iterator<Item = &'static str> {
    ESSENTIAL_OPTIONS
        .iter()
        .copied()
        .chain(
            PREREQUISITES
                .iter()
                .flat_map(|(option, needs)| std::iter::once(*option).chain(needs.iter().copied())),
        )
        .chain(MODULE_OPTIONS.iter().map(|(_, option)| *option))
        .chain(IPSET_OPTIONS.iter().copied())
        .chain(LEGACY_TABLE_OPTIONS.iter().copied())
        .chain([LEGACY_SWITCH, "MODULES"])
}

/// The option lines of a config, in order: (name, value) as byte ranges into `text`, where a
/// value of `None` is `# CONFIG_X is not set`. Other lines are left out; a line is read with
/// the whitespace around it trimmed.
fn option_lines(text: &str) -> impl Iterator<Item = (Range<usize>, Option<Range<usize>>)> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() {
            let end =
                memchr::memchr(b'\n', bytes.get(start..)?).map_or(bytes.len(), |i| start + i + 1);
            let at = start;
            start = end;
            if let Some(option) = option_line(text.get(at..end)?, at) {
                return Some(option);
            }
        }
        None
    })
}

/// One line of a config (with its newline, starting at byte `at` of the text) as
/// [`option_lines`] gives it.
fn option_line(raw: &str, at: usize) -> Option<(Range<usize>, Option<Range<usize>>)> {
    // Most lines start with `C` or `#`, which trimming keeps: only others are trimmed in front.
    let (line, at) = match raw.as_bytes().first() {
        Some(b'C' | b'#') => (raw.trim_end(), at),
        _ => {
            let line = raw.trim();
            (line, at + (raw.len() - raw.trim_start().len()))
        }
    };
    if let Some(rest) = line.strip_prefix("# CONFIG_") {
        let name = rest.strip_suffix(" is not set")?;
        let name_at = at + "# CONFIG_".len();
        Some((name_at..name_at + name.len(), None))
    } else {
        let rest = line.strip_prefix("CONFIG_")?;
        let eq = memchr::memchr(b'=', rest.as_bytes())?;
        let name_at = at + "CONFIG_".len();
        let value_at = name_at + eq + 1;
        Some((name_at..name_at + eq, Some(value_at..name_at + rest.len())))
    }
}

impl KernelConfig {
    /// Takes the text whole: a config is some 250 KB, not to be copied.
    pub fn parse(source: &str, text: impl Into<String>) -> Result<KernelConfig, String> {
        let text = text.into();
        let mut asked: Vec<u64> = asked_options().map(name_hash).collect();
        asked.sort_unstable();
        // The lengths of the asked names (bit n: a name of n bytes, 63 and longer in bit 63):
        // most lines are passed over without hashing their name.
        let lengths = asked_options().fold(0_u64, |bits, o| bits | 1 << o.len().min(63));
        let mut index = Vec::with_capacity(asked.len());
        let mut options = 0_usize;
        for (name, value) in option_lines(&text) {
            options += 1;
            if lengths & 1 << name.len().min(63) == 0 {
                continue;
            }
            let hash = name_hash(text.get(name.clone()).unwrap_or_default());
            if asked.binary_search(&hash).is_ok() {
                index.push((hash, name, value));
            }
        }
        if options == 0 {
            return Err(format!("{source}: no CONFIG_ options in it"));
        }
        index.sort_by_key(|(hash, _, _)| *hash);
        Ok(KernelConfig {
            source: source.to_owned(),
            text,
            asked,
            index,
        })
    }

    /// The option's value; when a config sets an option twice, the later line wins.
    pub fn get(&self, option: &str) -> Option<&str> {
        let named = |(name, _): &(Range<usize>, Option<Range<usize>>)| {
            self.text.get(name.clone()).unwrap_or_default() == option
        };
        let hash = name_hash(option);
        let (_, value) = if self.asked.binary_search(&hash).is_ok() {
            let from = self.index.partition_point(|(h, _, _)| *h < hash);
            let to = self.index.partition_point(|(h, _, _)| *h <= hash);
            // The last line that names it: equal hashes keep their order in the file.
            self.index
                .get(from..to)?
                .iter()
                .rev()
                .map(|(_, name, value)| (name.clone(), value.clone()))
                .find(named)?
        } else {
            option_lines(&self.text).filter(named).last()?
        };
        Some(match value {
            Some(v) => self.text.get(v).unwrap_or_default(),
            None => "n",
        })
    }

    /// `=y` or `=m`.
    pub fn enabled(&self, option: &str) -> bool {
        matches!(self.get(option), Some("y" | "m"))
    }

    /// `CONFIG_X` for each of `options` that is not enabled.
    pub fn missing_of(&self, options: &[&str]) -> Vec<String> {
        options
            .iter()
            .filter(|o| !self.enabled(o))
            .map(|o| format!("CONFIG_{o}"))
            .collect()
    }

    /// `CONFIG_X needs CONFIG_Y` for each essential X that is not enabled while its
    /// prerequisite Y is not enabled either (see [`PREREQUISITES`]).
    pub fn missing_prerequisites(&self) -> Vec<String> {
        PREREQUISITES
            .iter()
            .filter(|(option, _)| !self.enabled(option))
            .flat_map(|(option, needs)| {
                needs
                    .iter()
                    .filter(|n| !self.enabled(n))
                    .map(move |n| format!("CONFIG_{option} needs CONFIG_{n}"))
            })
            .collect()
    }

    pub fn missing_essentials(&self) -> Vec<String> {
        ESSENTIAL_OPTIONS
            .iter()
            .filter(|o| !self.enabled(o))
            .map(|o| format!("CONFIG_{o}"))
            .collect()
    }
}

fn config_absent_reason(release: Option<&str>) -> String {
    match release {
        Some(r) => format!("no kernel config: neither /proc/config.gz nor /boot/config-{r} exists"),
        None => "no kernel config: /proc/config.gz does not exist".to_owned(),
    }
}

/// Reads `/proc/config.gz`, else `/boot/config-<release>`. `Ok(None)` when neither exists;
/// an error when one exists but cannot be read and no other one can.
fn read_config(ctx: &Context, release: Option<&str>) -> Result<Option<KernelConfig>, String> {
    let mut errors = Vec::new();
    const GZ: &str = "/proc/config.gz";
    match ctx.sysroot.read_bytes(GZ) {
        Ok(bytes) => match gunzip(&bytes) {
            Ok(text) => match KernelConfig::parse(GZ, text) {
                Ok(c) => return Ok(Some(c)),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(format!("{GZ}: {e}")),
        },
        Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => errors.push(e.to_string()),
    }
    if let Some(r) = release {
        let file = format!("/boot/config-{r}");
        match ctx.sysroot.read_optional(&file) {
            Ok(Some(text)) => match KernelConfig::parse(&file, text) {
                Ok(c) => return Ok(Some(c)),
                Err(e) => errors.push(e),
            },
            Ok(None) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(None)
    } else {
        Err(errors.join("; "))
    }
}

pub fn gunzip(bytes: &[u8]) -> Result<String, String> {
    // The gzip trailer's last four bytes hold the uncompressed size (mod 2^32): reserve that
    // much up front rather than growing from nothing.
    let size = bytes
        .last_chunk::<4>()
        .map_or(0, |n| u64::from(u32::from_le_bytes(*n)))
        .min(MAX_CONFIG_BYTES);
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    GzDecoder::new(bytes)
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not readable as gzip ({e})"))?;
    if out.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "decompresses to more than {MAX_CONFIG_BYTES} bytes"
        ));
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// `/proc/modules`: `Ok(None)` when absent, the module names otherwise.
fn read_proc_modules(ctx: &Context) -> Result<Option<Vec<String>>, String> {
    const FILE: &str = "/proc/modules";
    let bytes = match ctx.sysroot.read_bytes(FILE) {
        Ok(b) => b,
        Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e.to_string()),
    };
    parse_proc_modules(&bytes).map(Some)
}

/// The module names in `/proc/modules` text, sorted.
pub fn parse_proc_modules(bytes: &[u8]) -> Result<Vec<String>, String> {
    const FILE: &str = "/proc/modules";
    // name size refcount dependencies state address [taints]
    let table = proc_table(FILE, bytes, 6)?;
    let mut names: Vec<String> = table
        .iter()
        .filter_map(|fields| fields.first().map(|n| (*n).to_owned()))
        .collect();
    if let Some(bad) = names.iter().find(|n| !is_module_name(n)) {
        return Err(format!(
            "{FILE}: not in the /proc/modules format (module name {bad:?})"
        ));
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The space-separated fields of each line of a /proc table such as `/proc/mounts` or
/// `/proc/modules`, which has at least `fields` of them per line. Errors, one line naming the
/// file and what was wrong: a line that is not UTF-8 or has too few fields.
fn proc_table<'a>(file: &str, bytes: &'a [u8], fields: usize) -> Result<Vec<Vec<&'a str>>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes
            .get(..e.valid_up_to())
            .map_or(0, |b| memchr::memchr_iter(b'\n', b).count())
            + 1;
        format!("{file}: line {line} is not UTF-8 text")
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(n, line)| {
            let split: Vec<&str> = line.split(' ').collect();
            if split.len() < fields || split.iter().take(fields).any(|f| f.is_empty()) {
                Err(format!(
                    "{file}: line {} has {} space-separated fields where {fields} are expected",
                    n + 1,
                    split.iter().filter(|f| !f.is_empty()).count()
                ))
            } else {
                Ok(split)
            }
        })
        .collect()
}

/// A /proc/mounts field with the kernel's octal escapes (`\040` for a space) decoded.
pub(crate) fn unmangle(field: &str) -> String {
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match octal {
            Some(c) => {
                out.push(c);
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_module_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn module_support(
    proc_modules: &Result<Option<Vec<String>>, String>,
    config: Option<&KernelConfig>,
) -> Result<bool, String> {
    if matches!(proc_modules, Ok(Some(_)) | Err(_)) {
        // The file exists (readable or not): only a kernel with CONFIG_MODULES creates it.
        return Ok(true);
    }
    match config {
        Some(c) => Ok(c.get("MODULES") == Some("y")),
        None => Err(
            "/proc/modules does not exist and there is no kernel config to tell whether modules are supported"
                .to_owned(),
        ),
    }
}

pub fn required_modules(backend: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = BASE_MODULES.iter().map(|m| (*m).to_owned()).collect();
    out.push(
        if backend == Some("legacy") {
            "ip_tables"
        } else {
            "nf_tables"
        }
        .to_owned(),
    );
    out
}

fn modules_unavailable(
    required: &[String],
    loaded: &Result<Vec<String>, String>,
    support: &Result<bool, String>,
    config: Option<&KernelConfig>,
    tree: Option<&ModuleTree>,
    release_known: bool,
) -> Result<Vec<String>, String> {
    let mut unavailable = Vec::new();
    let mut undecided = Vec::new();
    for m in required {
        let option = MODULE_OPTIONS
            .iter()
            .find(|(name, _)| name == m)
            .map(|(_, o)| *o);
        let is_loaded = loaded.as_ref().map(|l| l.iter().any(|x| x == m));
        if is_loaded == Ok(true) {
            continue;
        }
        // Built in: modules.builtin of the running tree, else the config saying =y.
        let builtin_by_list = tree
            .and_then(|t| t.builtin.as_ref())
            .map(|b| b.contains(m.as_str()));
        let builtin_by_config = config.and_then(|c| option.map(|o| c.get(o) == Some("y")));
        if builtin_by_list == Some(true) || builtin_by_config == Some(true) {
            continue;
        }
        // Loadable: a module file in the running release's tree, if modules can be loaded.
        let loadable: Result<bool, String> = match support {
            Ok(false) => Ok(false),
            _ => match tree {
                Some(t) => t
                    .loadable
                    .as_ref()
                    .map(|l| l.contains(m.as_str()))
                    .map_err(Clone::clone),
                None if !release_known => Err("the running release is unknown".to_owned()),
                None => Ok(false),
            },
        };
        if loadable == Ok(true) && support.as_ref().ok() != Some(&false) {
            continue;
        }
        let builtin_known = builtin_by_list.is_some() || builtin_by_config.is_some();
        let mut reasons: Vec<String> = Vec::new();
        if let Err(e) = &is_loaded {
            reasons.push((*e).clone());
        }
        if !builtin_known {
            reasons.push(match tree {
                Some(t) => format!(
                    "cannot tell whether {m} is built in: no {}/modules.builtin and no kernel config",
                    t.dir
                ),
                None => format!("cannot tell whether {m} is built in: no kernel config"),
            });
        }
        if let Err(e) = &loadable {
            reasons.push(e.clone());
        }
        if reasons.is_empty() {
            unavailable.push(m.clone());
        } else {
            undecided.extend(reasons);
        }
    }
    if undecided.is_empty() {
        Ok(unavailable)
    } else {
        undecided.dedup();
        Err(undecided.join("; "))
    }
}

fn ip_forward(ctx: &Context) -> Result<bool, String> {
    const FILE: &str = "/proc/sys/net/ipv4/ip_forward";
    let text = ctx.sysroot.read_string(FILE).map_err(|e| e.to_string())?;
    match text.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!("{FILE}: expected 0 or 1")),
    }
}

/// The architecture from /proc/sys/kernel/arch (Linux 6.1 and later; as `uname -m`).
fn kernel_arch(ctx: &Context) -> Result<String, String> {
    const FILE: &str = "/proc/sys/kernel/arch";
    let text = ctx.sysroot.read_string(FILE).map_err(|e| e.to_string())?;
    let arch = text.trim();
    if !arch.is_empty()
        && arch.len() <= 32
        && arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(arch.to_owned())
    } else {
        Err(format!("{FILE}: does not hold an architecture name"))
    }
}

/// The stock kernel package for an architecture, if dockdoc knows one.
fn stock_kernel(arch: &str) -> Option<&'static str> {
    STOCK_KERNELS
        .iter()
        .find(|(a, _)| *a == arch)
        .map(|(_, package)| *package)
}

fn cgroup_version(ctx: &Context) -> Result<i64, String> {
    const FILE: &str = "/proc/mounts";
    let bytes = ctx.sysroot.read_bytes(FILE).map_err(|e| e.to_string())?;
    let mounts = parse_mounts(&bytes)?;
    cgroup_version_of(&mounts).ok_or_else(|| format!("{FILE}: no cgroup filesystem is mounted"))
}

/// One line of /proc/mounts: where it is mounted and the filesystem type.
struct Mount {
    file: String,
    vfstype: String,
}

/// The mounts in /proc/mounts text: device, mount point, type, options, dump, pass.
fn parse_mounts(bytes: &[u8]) -> Result<Vec<Mount>, String> {
    Ok(proc_table("/proc/mounts", bytes, 6)?
        .iter()
        .map(|f| Mount {
            file: unmangle(f.get(1).copied().unwrap_or_default()),
            vfstype: unmangle(f.get(2).copied().unwrap_or_default()),
        })
        .collect())
}

fn cgroup_version_of(mounts: &[Mount]) -> Option<i64> {
    if mounts
        .iter()
        .any(|m| m.vfstype == "cgroup2" && m.file == "/sys/fs/cgroup")
    {
        Some(2)
    } else if mounts
        .iter()
        .any(|m| m.vfstype == "cgroup" || m.vfstype == "cgroup2")
    {
        Some(1)
    } else {
        None
    }
}

/// Which backend `iptables` runs, from the symlink chain of /usr/bin/iptables (Arch; /usr/sbin
/// is a symlink to it) or /usr/sbin/iptables (Debian, through /etc/alternatives).
fn iptables_backend(ctx: &Context) -> Result<Option<String>, String> {
    for start in ["/usr/bin/iptables", "/usr/sbin/iptables"] {
        if ctx.sysroot.symlink_metadata(start).is_err() {
            continue;
        }
        let target = ctx
            .sysroot
            .resolve(start)
            .map_err(|e| format!("{e} (following {start})"))?;
        if !target.found {
            return Err(format!(
                "{start}: leads to {}, which does not exist",
                target.path
            ));
        }
        let target = target.path;
        let base = target.rsplit('/').next().unwrap_or(&target);
        return match base {
            "xtables-nft-multi" => Ok(Some("nft".into())),
            "xtables-legacy-multi" => Ok(Some("legacy".into())),
            other if other.contains("nft") => Ok(Some("nft".into())),
            other if other.contains("legacy") => Ok(Some("legacy".into())),
            _ => Err(format!(
                "{start}: runs {target}, neither xtables-nft-multi nor xtables-legacy-multi"
            )),
        };
    }
    Ok(None)
}

/// The options the legacy tables need, in the order they depend on each other. From 6.17 on,
/// `IP_NF_IPTABLES_LEGACY` (ip_tables) depends on the bool `NETFILTER_XTABLES_LEGACY`, which a
/// config carried over with `make olddefconfig` leaves off, and the tables (`IP_NF_FILTER`,
/// `IP_NF_NAT`) depend on it; before, the tables selected ip_tables themselves.
const LEGACY_TABLE_OPTIONS: &[&str] = &["IP_NF_IPTABLES_LEGACY", "IP_NF_FILTER", "IP_NF_NAT"];
const LEGACY_SWITCH: &str = "NETFILTER_XTABLES_LEGACY";
/// The modules of the tables Docker creates through the legacy backend (`-t filter`, `-t nat`).
const LEGACY_TABLE_MODULES: &[&str] = &["iptable_filter", "iptable_nat"];

/// What the running kernel lacks for the legacy iptables tables; empty when it can provide them.
/// A loaded ip_tables settles it; otherwise the kernel config decides (an option the config
/// does not mention is off, as Kconfig writes no line for an option whose dependencies are
/// unmet), and without a config the running release's module tree does.
fn legacy_missing(
    config: Option<&KernelConfig>,
    loaded: &Result<Vec<String>, String>,
    tree: Option<&ModuleTree>,
    release_known: bool,
) -> Result<Vec<String>, String> {
    if loaded
        .as_ref()
        .is_ok_and(|l| l.iter().any(|m| m == "ip_tables"))
    {
        return Ok(Vec::new());
    }
    if let Some(c) = config {
        let mut missing = Vec::new();
        // 6.17 and later write the switch into every config, set or not.
        if c.get(LEGACY_SWITCH).is_some_and(|v| v != "y") {
            missing.push(format!("CONFIG_{LEGACY_SWITCH}"));
        }
        let newer = c.get(LEGACY_SWITCH).is_some();
        for option in LEGACY_TABLE_OPTIONS {
            // Before 6.17, IP_NF_IPTABLES_LEGACY (6.9 on) was hidden and selected by the tables.
            if *option == "IP_NF_IPTABLES_LEGACY" && !newer {
                continue;
            }
            if !c.enabled(option) {
                missing.push(format!("CONFIG_{option}"));
            }
        }
        return Ok(missing);
    }
    let Some(tree) = tree.filter(|t| t.present()) else {
        return Err(if release_known {
            "no kernel config, and no module tree for the running release to tell whether it has the legacy iptables tables".to_owned()
        } else {
            "the running release is unknown".to_owned()
        });
    };
    let loadable = tree.loadable.as_ref().map_err(Clone::clone)?;
    Ok(LEGACY_TABLE_MODULES
        .iter()
        .filter(|m| {
            !loadable.contains(**m)
                && !tree.builtin.as_ref().is_some_and(|b| b.contains(**m))
                && !loaded.as_ref().is_ok_and(|l| l.iter().any(|x| x == *m))
        })
        .map(|m| format!("module {m}"))
        .collect())
}

fn backend_mismatch(backend: Option<&str>, loaded: &[String]) -> bool {
    let has = |m: &str| loaded.iter().any(|x| x == m);
    match backend {
        Some("nft") => has("iptable_nat") || has("iptable_filter"),
        Some("legacy") => has("nft_chain_nat"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_fold_dashes_and_compression() {
        assert_eq!(
            module_name("kernel/net/bridge/br_netfilter.ko.zst").as_deref(),
            Some("br_netfilter")
        );
        assert_eq!(
            module_name("kernel/drivers/net/veth.ko").as_deref(),
            Some("veth")
        );
        assert_eq!(
            module_name("kernel/net/netfilter/nf-nat.ko.xz").as_deref(),
            Some("nf_nat")
        );
        assert_eq!(module_name("kernel/x/readme.txt"), None);
        assert_eq!(module_name("kernel/x/foo.kobj"), None);
    }

    #[test]
    fn reads_modules_dep_and_builtin() {
        let dep = "kernel/net/bridge/br_netfilter.ko.zst: kernel/net/bridge/bridge.ko.zst kernel/net/802/stp.ko.zst\nkernel/drivers/net/veth.ko.zst:\n";
        let names = module_names_in_dep(dep);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["br_netfilter", "veth"]
        );
        let builtin =
            module_names_in_list("kernel/net/unix/unix.ko\nkernel/fs/overlayfs/overlay.ko\n");
        assert!(builtin.contains("overlay"));
    }

    #[test]
    fn names_the_prerequisite_a_missing_option_waits_for() {
        // An Arch Linux ARM config of the kind opencontainers/runc#2959 showed: BPF_SYSCALL
        // unset, so CGROUP_BPF cannot be set either.
        let c = KernelConfig::parse(
            "/proc/config.gz",
            "CONFIG_BPF=y\n# CONFIG_BPF_SYSCALL is not set\nCONFIG_BPF_JIT=y\nCONFIG_BRIDGE=m\nCONFIG_NETFILTER=y\n",
        )
        .unwrap();
        assert_eq!(
            c.missing_prerequisites(),
            ["CONFIG_CGROUP_BPF needs CONFIG_BPF_SYSCALL"]
        );
        assert!(
            c.missing_essentials()
                .contains(&"CONFIG_CGROUP_BPF".to_owned())
        );
        // A missing option whose prerequisites are there is only missing.
        let c = KernelConfig::parse("/proc/config.gz", "CONFIG_BPF_SYSCALL=y\nCONFIG_BRIDGE=m\n")
            .unwrap();
        assert_eq!(
            c.missing_prerequisites(),
            ["CONFIG_BRIDGE_NETFILTER needs CONFIG_NETFILTER"]
        );
    }

    #[test]
    fn suggests_a_kernel_that_exists_for_the_architecture() {
        assert_eq!(stock_kernel("x86_64"), Some("linux-lts"));
        assert_eq!(stock_kernel("aarch64"), Some("linux-aarch64"));
        assert_eq!(stock_kernel("armv7l"), Some("linux-armv7"));
        assert_eq!(stock_kernel("riscv64"), None);
    }

    #[test]
    fn parses_config_with_unset_options() {
        let c = KernelConfig::parse(
            "x",
            "#\n# Automatically generated file; DO NOT EDIT.\nCONFIG_VETH=m\n# CONFIG_MODULES is not set\nCONFIG_LOCALVERSION=\"-arch1\"\n",
        )
        .unwrap();
        assert_eq!(c.get("VETH"), Some("m"));
        assert_eq!(c.get("MODULES"), Some("n"));
        assert_eq!(c.get("LOCALVERSION"), Some("\"-arch1\""));
        assert!(c.enabled("VETH"));
        assert!(!c.enabled("MODULES"));
        assert_eq!(c.get("VET"), None);
        assert_eq!(c.get("VETHX"), None);
        assert_eq!(c.get(""), None);
        assert!(KernelConfig::parse("junk", "\u{0}\u{1}binary").is_err());
    }

    #[test]
    fn a_later_line_for_the_same_option_wins_and_whitespace_is_ignored() {
        let c = KernelConfig::parse(
            "x",
            "CONFIG_VETH=m\r\n  CONFIG_BRIDGE=y  \n# CONFIG_VETH is not set\nCONFIG_A=1\nCONFIG_ZZ=\"a=b\"\nCONFIG_B=1\n# CONFIG_B is not set",
        )
        .unwrap();
        assert_eq!(c.get("VETH"), Some("n"));
        assert_eq!(c.get("BRIDGE"), Some("y"));
        assert_eq!(c.get("A"), Some("1"));
        assert_eq!(c.get("ZZ"), Some("\"a=b\""));
        // An option the probes do not ask for is found by a pass over the text, with the
        // same rule.
        assert!(!asked_options().any(|o| o == "B"));
        assert_eq!(c.get("B"), Some("n"));
    }

    #[test]
    fn gunzip_reads_a_gzip_whatever_its_trailer_claims() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"CONFIG_VETH=m\n\xff\n").unwrap();
        let mut bytes = gz.finish().unwrap();
        assert_eq!(gunzip(&bytes).unwrap(), "CONFIG_VETH=m\n\u{fffd}\n");
        // A wrong size in the trailer is only a capacity hint; flate2 then rejects the stream.
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(gunzip(&bytes).is_err());
        assert!(gunzip(b"").is_err());
    }

    #[test]
    fn infers_pkgbase_from_release_suffix() {
        assert_eq!(pkgbase_from_release("6.10.5-arch1-1"), Some("linux"));
        assert_eq!(pkgbase_from_release("6.6.52-1-lts"), Some("linux-lts"));
        assert_eq!(
            pkgbase_from_release("6.10.10-zen1-1-zen"),
            Some("linux-zen")
        );
        assert_eq!(
            pkgbase_from_release("6.10.10-hardened1-1-hardened"),
            Some("linux-hardened")
        );
        assert_eq!(pkgbase_from_release("6.1.0-27-amd64"), None);
    }

    #[test]
    fn compares_versions_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("6.9.1-arch1-1", "6.10.0-arch1-1"), Less);
        assert_eq!(version_cmp("6.11.2-arch1-1", "6.10.5-arch1-1"), Greater);
        assert_eq!(version_cmp("6.10.5-arch1-1", "6.10.5-arch1-1"), Equal);
        assert_eq!(version_cmp("", "1"), Less);
    }

    #[test]
    fn reads_the_files_section_of_a_pacman_entry() {
        let text = "%FILES%\nusr/\nusr/lib/\nusr/lib/modules/\nusr/lib/modules/6.10.5-arch1-1/\nusr/lib/modules/6.10.5-arch1-1/pkgbase\n\n%BACKUP%\netc/x\tabc\n";
        let files: Vec<&str> = files_section(text).collect();
        assert!(files.contains(&"usr/lib/modules/6.10.5-arch1-1/"));
        assert!(!files.contains(&"etc/x\tabc"));
    }

    #[test]
    fn cgroup_version_from_mounts() {
        let parse = |t: &str| parse_mounts(t.as_bytes()).unwrap();
        let v2 = parse(
            "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n",
        );
        assert_eq!(cgroup_version_of(&v2), Some(2));
        let hybrid = parse(
            "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n",
        );
        assert_eq!(cgroup_version_of(&hybrid), Some(1));
        assert_eq!(cgroup_version_of(&parse("proc /proc proc rw 0 0\n")), None);
        assert_eq!(
            parse_mounts(b"cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n\xff\xfe garbage").err(),
            Some("/proc/mounts: line 2 is not UTF-8 text".to_owned())
        );
        let spaced = parse("/dev/sda1 /mnt/my\\040disk ext4 rw 0 0\n");
        assert_eq!(
            spaced.first().map(|m| m.file.as_str()),
            Some("/mnt/my disk")
        );
    }

    /// A malformed line is one line of reason naming the file, the line and what is wrong.
    #[test]
    fn malformed_proc_tables_are_one_line_reasons() {
        assert_eq!(
            parse_mounts(b"proc /proc proc rw 0 0\ngarbage here\n").err(),
            Some(
                "/proc/mounts: line 2 has 2 space-separated fields where 6 are expected".to_owned()
            )
        );
        assert_eq!(
            parse_proc_modules(b"veth 40960 0 - Live 0x0\nbroken\n").err(),
            Some(
                "/proc/modules: line 2 has 1 space-separated fields where 6 are expected"
                    .to_owned()
            )
        );
    }

    #[test]
    fn proc_modules_garbage_is_an_error() {
        assert_eq!(
            parse_proc_modules(b"veth 40960 0 - Live 0x0000000000000000\n").ok(),
            Some(vec!["veth".to_owned()])
        );
        assert!(parse_proc_modules(b"\x00\x01\x02 junk\n").is_err());
        assert!(parse_proc_modules(b"\x01\x02 1 0 - Live 0x0\n").is_err());
    }

    #[test]
    fn backend_mismatch_needs_the_other_backends_tables() {
        let l = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(backend_mismatch(Some("nft"), &l(&["iptable_nat"])));
        assert!(!backend_mismatch(Some("nft"), &l(&["nft_chain_nat"])));
        assert!(backend_mismatch(Some("legacy"), &l(&["nft_chain_nat"])));
        assert!(!backend_mismatch(None, &l(&["iptable_nat"])));
    }

    #[test]
    fn required_modules_follow_the_backend() {
        assert!(required_modules(Some("legacy")).contains(&"ip_tables".to_owned()));
        assert!(required_modules(Some("nft")).contains(&"nf_tables".to_owned()));
        assert!(required_modules(None).contains(&"nf_tables".to_owned()));
    }
}
