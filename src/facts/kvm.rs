//! KVM for docker-osx: CPU virtualization flags, `/dev/kvm`, the kvm modules and their
//! parameters, and whether `ignore_msrs` is persisted in modprobe.d.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use super::user::{GROUP, group_name, parse_group, reason_of};
use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

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
        "kvm.device_uid",
        Int,
        "the uid owning /dev/kvm (null when there is no device)",
    ),
    spec(
        "kvm.device_gid",
        Int,
        "the gid owning /dev/kvm (null when there is no device)",
    ),
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

const CPUINFO: &str = "/proc/cpuinfo";
const DEVICE: &str = "/dev/kvm";
const CMDLINE: &str = "/proc/cmdline";

/// The modprobe.d directories in modprobe.d(5) precedence order: a file name found in an
/// earlier directory hides the same name in the later ones.
const MODPROBE_DIRS: &[&str] = &[
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// What /proc/cpuinfo says about virtualization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuInfo {
    pub virtualization: bool,
    /// `intel`, `amd` or `other`.
    pub vendor: &'static str,
    pub hypervisor: bool,
}

/// Parses /proc/cpuinfo: any `flags` line (not `vmx flags`) with vmx or svm, the vendor of the
/// first `vendor_id`, and the `hypervisor` flag that a VM guest's CPU carries.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo {
        virtualization: false,
        vendor: "other",
        hypervisor: false,
    };
    let mut vendor_seen = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "flags" => {
                for flag in value.split_whitespace() {
                    match flag {
                        "vmx" | "svm" => info.virtualization = true,
                        "hypervisor" => info.hypervisor = true,
                        _ => {}
                    }
                }
            }
            "vendor_id" if !vendor_seen => {
                vendor_seen = true;
                info.vendor = match value.trim() {
                    "GenuineIntel" => "intel",
                    "AuthenticAMD" => "amd",
                    _ => "other",
                };
            }
            _ => {}
        }
    }
    info
}

/// A kernel boolean parameter as sysfs or a command line shows it.
fn parse_bool_param(value: &str) -> Option<bool> {
    match value.trim().trim_matches('"') {
        "Y" | "y" | "1" => Some(true),
        "N" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// Module and parameter names treat `-` and `_` alike.
fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

/// The logical lines of a modprobe.d file: `\` continues a line, lines starting with `#` are
/// comments.
fn modprobe_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        if current.is_empty() && raw.trim_start().starts_with('#') {
            continue;
        }
        match raw.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(raw);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The value a modprobe.d file gives `module.param` (the last one wins, as the kernel applies
/// repeated options in order); `None` when the file does not set it. A boolean parameter
/// named without a value is true.
pub fn modprobe_option(text: &str, module: &str, param: &str) -> Option<bool> {
    let (module, param) = (normalize(module), normalize(param));
    let mut value = None;
    for line in modprobe_lines(text) {
        let mut words = line.split_whitespace();
        if words.next() != Some("options") || words.next().map(normalize) != Some(module.clone()) {
            continue;
        }
        for word in words {
            let (name, v) = word.split_once('=').unwrap_or((word, "1"));
            if normalize(name) == param {
                value = parse_bool_param(v).or(Some(false));
            }
        }
    }
    value
}

/// The value the kernel command line gives `module.param`, if any.
pub fn cmdline_option(text: &str, module: &str, param: &str) -> Option<bool> {
    let want = format!("{}.{}", normalize(module), normalize(param));
    text.split_whitespace()
        .take_while(|w| *w != "--")
        .filter_map(|w| {
            let (name, v) = w.split_once('=').unwrap_or((w, "1"));
            (normalize(name) == want).then(|| parse_bool_param(v).unwrap_or(false))
        })
        .last()
}

/// Whether the kernel will get `ignore_msrs=1` for kvm at the next boot or module load.
fn ignore_msrs_persisted(ctx: &Context) -> Result<bool, String> {
    let mut problems = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for dir in MODPROBE_DIRS {
        let names = match ctx.sysroot.read_dir_names(dir) {
            Ok(n) => n,
            Err(crate::error::ProbeError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue;
            }
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        for name in names {
            if name.ends_with(".conf") && !seen.contains(&name) {
                seen.push(name.clone());
                files.push((name.clone(), format!("{dir}/{name}")));
            }
        }
    }
    // modprobe reads the files in name order, whatever directory they come from.
    files.sort();
    let mut value = None;
    for (_, path) in &files {
        match ctx.sysroot.read_string(path) {
            Ok(text) => {
                if let Some(v) = modprobe_option(&text, "kvm", "ignore_msrs") {
                    value = Some(v);
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let on_cmdline = match ctx.sysroot.read_optional(CMDLINE) {
        Ok(text) => text.and_then(|t| cmdline_option(&t, "kvm", "ignore_msrs")),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    if on_cmdline == Some(true) || value == Some(true) {
        Ok(true)
    } else if problems.is_empty() {
        Ok(false)
    } else {
        Err(problems.join("; "))
    }
}

/// Whether `/sys/module/<name>` exists (the module is loaded or built in).
fn module_present(ctx: &Context, name: &str) -> Result<bool, String> {
    ctx.sysroot
        .metadata_optional(&format!("/sys/module/{name}"))
        .map(|m| m.is_some_and(|m| m.is_dir()))
        .map_err(|e| e.to_string())
}

fn read_bool_param(ctx: &Context, path: &str) -> Result<bool, String> {
    let text = ctx.sysroot.read_string(path).map_err(|e| e.to_string())?;
    parse_bool_param(&text).ok_or_else(|| format!("{path}: unexpected value `{}`", text.trim()))
}

fn gather_cpu(ctx: &Context, facts: &mut Facts) {
    match ctx.sysroot.read_string(CPUINFO) {
        Ok(text) => {
            let info = parse_cpuinfo(&text);
            facts.set("kvm.cpu_virtualization", Fact::known(info.virtualization));
            facts.set("kvm.cpu_vendor", Fact::known(info.vendor));
            facts.set("kvm.hypervisor_guest", Fact::known(info.hypervisor));
        }
        Err(e) => {
            let f = Fact::unknown(e.to_string());
            for key in [
                "kvm.cpu_virtualization",
                "kvm.cpu_vendor",
                "kvm.hypervisor_guest",
            ] {
                facts.set(key, f.clone());
            }
        }
    }
}

fn gather_device(ctx: &Context, facts: &mut Facts) {
    let keys = [
        "kvm.device_exists",
        "kvm.device_group",
        "kvm.device_mode",
        "kvm.device_uid",
        "kvm.device_gid",
    ];
    let meta = match ctx.sysroot.metadata_optional(DEVICE) {
        Ok(Some(m)) if m.file_type().is_char_device() => m,
        Ok(_) => {
            facts.set("kvm.device_exists", Fact::known(false));
            for key in &keys[1..] {
                facts.set(key, Fact::known(Value::Null));
            }
            return;
        }
        Err(e) => {
            let f = Fact::unknown(e.to_string());
            for key in keys {
                facts.set(key, f.clone());
            }
            return;
        }
    };
    facts.set("kvm.device_exists", Fact::known(true));
    facts.set(
        "kvm.device_mode",
        Fact::known(format!("{:04o}", meta.mode() & 0o7777)),
    );
    facts.set("kvm.device_uid", Fact::known(u64::from(meta.uid())));
    facts.set("kvm.device_gid", Fact::known(u64::from(meta.gid())));
    let group = ctx
        .sysroot
        .read_string(GROUP)
        .map(|t| group_name(&parse_group(&t), meta.gid()))
        .map_err(|e| e.to_string());
    facts.set("kvm.device_group", group);
}

fn gather_modules(ctx: &Context, facts: &mut Facts) {
    let kvm = module_present(ctx, "kvm");
    let intel = module_present(ctx, "kvm_intel");
    let amd = module_present(ctx, "kvm_amd");
    facts.set("kvm.module_loaded", kvm.clone());
    let vendor = match (&intel, &amd) {
        (Ok(true), _) | (_, Ok(true)) => Ok(true),
        (Ok(false), Ok(false)) => Ok(false),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    facts.set("kvm.vendor_module_loaded", vendor);

    let ignore_msrs = match kvm {
        Ok(true) => read_bool_param(ctx, "/sys/module/kvm/parameters/ignore_msrs"),
        Ok(false) => Err("kvm is not loaded".to_owned()),
        Err(e) => Err(e),
    };
    facts.set("kvm.ignore_msrs", ignore_msrs);

    let nested = match (intel, amd) {
        (Ok(true), _) => read_bool_param(ctx, "/sys/module/kvm_intel/parameters/nested"),
        (_, Ok(true)) => read_bool_param(ctx, "/sys/module/kvm_amd/parameters/nested"),
        (Ok(false), Ok(false)) => Err("neither kvm_intel nor kvm_amd is loaded".to_owned()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    facts.set("kvm.nested", nested);

    facts.set("kvm.ignore_msrs_persisted", ignore_msrs_persisted(ctx));
}

pub fn gather(ctx: &Context, facts: &mut Facts) {
    gather_cpu(ctx, facts);
    gather_device(ctx, facts);
    gather_modules(ctx, facts);
    facts.set(
        "kvm.device_accessible",
        Fact::unknown("kvm.device_accessible is derived after every probe ran"),
    );
}

/// Whether a user with `uid` and the session `groups` may read and write a file owned by
/// `owner`:`group` with `mode`, as the kernel decides it without ACLs: the owner bits for the
/// owner, else the group bits for a member, else the other bits; root may always.
pub fn may_read_write(mode: u32, owner: i64, group: &str, uid: i64, groups: &[String]) -> bool {
    let bits = if uid == 0 {
        return true;
    } else if uid == owner {
        mode >> 6
    } else if groups.iter().any(|g| g == group) {
        mode >> 3
    } else {
        mode
    };
    bits & 0o6 == 0o6
}

/// `kvm.device_accessible` from the device's stat and the judged user's session (user facts).
pub fn derive(facts: &mut Facts) {
    let accessible = (|| -> Result<bool, String> {
        match facts.get("kvm.device_exists") {
            Fact::Known {
                value: Value::Bool(false),
            } => return Ok(false),
            Fact::Known { .. } => {}
            _ => return Err(reason_of(facts, "kvm.device_exists").unwrap_or_default()),
        }
        for key in [
            "kvm.device_mode",
            "kvm.device_uid",
            "kvm.device_group",
            "user.uid",
            "user.groups_session",
        ] {
            if let Some(reason) = reason_of(facts, key) {
                return Err(reason);
            }
        }
        let mode = facts
            .text("kvm.device_mode")
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or("kvm.device_mode is not an octal mode")?;
        let owner = facts
            .int("kvm.device_uid")
            .ok_or("kvm.device_uid is not set")?;
        let group = facts
            .text("kvm.device_group")
            .ok_or("kvm.device_group is not set")?;
        let uid = facts.int("user.uid").ok_or("user.uid is not set")?;
        let groups = facts
            .list("user.groups_session")
            .ok_or("user.groups_session is not set")?;
        Ok(may_read_write(mode, owner, group, uid, groups))
    })();
    facts.set("kvm.device_accessible", accessible);
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEL: &str = "processor\t: 0\n\
        vendor_id\t: GenuineIntel\n\
        cpu family\t: 6\n\
        model name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz\n\
        flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr vmx est tm2 ssse3\n\
        vmx flags\t: vnmi preemption_timer invvpid ept_x_only ept_ad\n\
        bugs\t\t: spectre_v1\n\n";

    #[test]
    fn cpuinfo_reads_flags_vendor_and_hypervisor() {
        assert_eq!(
            parse_cpuinfo(INTEL),
            CpuInfo {
                virtualization: true,
                vendor: "intel",
                hypervisor: false
            }
        );
        let guest = "processor\t: 0\nvendor_id\t: AuthenticAMD\n\
            flags\t\t: fpu vme sse2 hypervisor lahf_lm\n";
        assert_eq!(
            parse_cpuinfo(guest),
            CpuInfo {
                virtualization: false,
                vendor: "amd",
                hypervisor: true
            }
        );
        // Only `vmx flags` mentions vmx: not a `flags` line.
        let tricky = "vendor_id\t: GenuineIntel\nflags\t\t: fpu\nvmx flags\t: vmx\n";
        assert!(!parse_cpuinfo(tricky).virtualization);
        // ARM: no vendor_id, `Features` instead of `flags`.
        let arm = "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm\n";
        assert_eq!(parse_cpuinfo(arm).vendor, "other");
    }

    #[test]
    fn modprobe_options_follow_modprobe_d_syntax() {
        let conf = "# options kvm ignore_msrs=1\n\
            options kvm_intel nested=1\n\
            options kvm report_ignored_msrs=0 \\\n    ignore_msrs=1\n";
        assert_eq!(modprobe_option(conf, "kvm", "ignore_msrs"), Some(true));
        assert_eq!(modprobe_option(conf, "kvm-intel", "nested"), Some(true));
        assert_eq!(
            modprobe_option("#options kvm ignore_msrs=1\n", "kvm", "ignore_msrs"),
            None
        );
        assert_eq!(
            modprobe_option("options kvm ignore_msrs=Y\n", "kvm", "ignore_msrs"),
            Some(true)
        );
        assert_eq!(
            modprobe_option("options kvm ignore-msrs\n", "kvm", "ignore_msrs"),
            Some(true)
        );
        assert_eq!(
            modprobe_option(
                "options kvm ignore_msrs=1\noptions kvm ignore_msrs=0\n",
                "kvm",
                "ignore_msrs"
            ),
            Some(false)
        );
        // Another module's parameter of the same name does not count.
        assert_eq!(
            modprobe_option("options kvm_amd ignore_msrs=1\n", "kvm", "ignore_msrs"),
            None
        );
        assert_eq!(
            modprobe_option("blacklist kvm\n", "kvm", "ignore_msrs"),
            None
        );
    }

    #[test]
    fn cmdline_option_is_read_before_the_init_arguments() {
        let line = "BOOT_IMAGE=/vmlinuz-linux root=UUID=1 rw kvm.ignore_msrs=1 quiet\n";
        assert_eq!(cmdline_option(line, "kvm", "ignore_msrs"), Some(true));
        assert_eq!(cmdline_option("quiet", "kvm", "ignore_msrs"), None);
        assert_eq!(
            cmdline_option("quiet -- kvm.ignore_msrs=1", "kvm", "ignore_msrs"),
            None
        );
        assert_eq!(
            cmdline_option("kvm.ignore_msrs=N", "kvm", "ignore_msrs"),
            Some(false)
        );
    }

    #[test]
    fn access_uses_owner_then_group_then_other_bits() {
        let kvm = vec!["alice".to_owned(), "kvm".to_owned()];
        let plain = vec!["alice".to_owned()];
        assert!(may_read_write(0o660, 0, "kvm", 1000, &kvm));
        assert!(!may_read_write(0o660, 0, "kvm", 1000, &plain));
        assert!(may_read_write(0o666, 0, "kvm", 1000, &plain));
        assert!(may_read_write(0o600, 0, "kvm", 0, &plain));
        assert!(may_read_write(0o600, 1000, "kvm", 1000, &plain));
        // The owner gets the owner bits only, even when the group bits would allow more.
        assert!(!may_read_write(0o066, 1000, "kvm", 1000, &kvm));
        assert!(!may_read_write(0o640, 0, "kvm", 1000, &kvm));
    }
}
