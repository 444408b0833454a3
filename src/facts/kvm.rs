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
        "kvm.device_acl",
        List,
        "/dev/kvm's POSIX access ACL (the system.posix_acl_access xattr) as getfacl prints it: user entries by uid, group entries by name from /etc/group (the gid when unmapped); empty when the device has none",
    ),
    spec(
        "kvm.device_accessible",
        Bool,
        "the judged user can read and write /dev/kvm, decided as the kernel does (acl(5)): owner, named-user, group and other entries, the ACL mask, against the uid and the session's groups",
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
        "kvm.device_acl",
    ];
    let meta = match ctx.sysroot.metadata_optional(DEVICE) {
        Ok(Some(m)) if m.file_type().is_char_device() => m,
        Ok(_) => {
            facts.set("kvm.device_exists", Fact::known(false));
            for key in keys.iter().skip(1) {
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
    let groups = ctx
        .sysroot
        .read_string(GROUP)
        .map(|t| parse_group(&t))
        .map_err(|e| e.to_string());
    facts.set(
        "kvm.device_group",
        groups
            .as_ref()
            .map(|g| group_name(g, meta.gid()))
            .map_err(Clone::clone),
    );
    let acl = read_acl(ctx, DEVICE).and_then(|entries| {
        // A named group entry needs its name to be judged against the session's groups.
        let named = entries.iter().any(|e| e.tag == AclTag::Group);
        match (&groups, named) {
            (Err(e), true) => Err(e.clone()),
            (Ok(g), _) => Ok(entries.iter().map(|e| e.to_text(g)).collect::<Vec<_>>()),
            (Err(_), false) => Ok(entries.iter().map(|e| e.to_text(&[])).collect()),
        }
    });
    facts.set("kvm.device_acl", acl);
}

/// The xattr holding a file's POSIX access ACL (acl(5)).
const ACL_XATTR: &str = "system.posix_acl_access";

/// Reads a file's access ACL. A file without one (`ENODATA`), or on a filesystem without
/// ACLs (`EOPNOTSUPP`), has none: its mode bits alone decide.
fn read_acl(ctx: &Context, inside: &str) -> Result<Vec<AclEntry>, String> {
    let path = ctx.sysroot.host_path(inside).map_err(|e| e.to_string())?;
    // 4 + 8 * 64 bytes: more entries than any device node carries; a longer ACL is ERANGE.
    let mut buf = [0u8; 516];
    match rustix::fs::getxattr(&path, ACL_XATTR, &mut buf[..]) {
        Ok(len) => buf
            .get(..len)
            .ok_or_else(|| format!("{inside}: {ACL_XATTR} is longer than its buffer"))
            .and_then(|bytes| parse_acl_xattr(bytes).map_err(|e| format!("{inside}: {e}"))),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::OPNOTSUPP) => Ok(Vec::new()),
        Err(e) => Err(format!(
            "{inside}: reading {ACL_XATTR}: {}",
            std::io::Error::from(e)
        )),
    }
}

/// The tag of an ACL entry (acl(5)), with the values of the xattr's on-disk format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclTag {
    /// `user::` — the owner (ACL_USER_OBJ, 0x01).
    UserObj,
    /// `user:UID:` — a named user (ACL_USER, 0x02).
    User,
    /// `group::` — the owning group (ACL_GROUP_OBJ, 0x04).
    GroupObj,
    /// `group:GID:` — a named group (ACL_GROUP, 0x08).
    Group,
    /// `mask::` — the most a named user or any group entry grants (ACL_MASK, 0x10).
    Mask,
    /// `other::` — everyone else (ACL_OTHER, 0x20).
    Other,
}

/// One ACL entry as the xattr stores it: the tag, `rwx` as bits 4, 2, 1, and the uid or gid
/// of a named entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclEntry {
    pub tag: AclTag,
    pub perm: u8,
    pub id: Option<u32>,
}

impl AclEntry {
    /// The entry as `getfacl` prints it: `user:1000:rw-`, with a named group's name from
    /// `groups` (the gid when it has none).
    pub fn to_text(&self, groups: &[super::user::GroupEntry]) -> String {
        let qualifier = match (self.tag, self.id) {
            (AclTag::User, Some(uid)) => uid.to_string(),
            (AclTag::Group, Some(gid)) => group_name(groups, gid),
            _ => String::new(),
        };
        let tag = match self.tag {
            AclTag::UserObj | AclTag::User => "user",
            AclTag::GroupObj | AclTag::Group => "group",
            AclTag::Mask => "mask",
            AclTag::Other => "other",
        };
        let bit = |b: u8, c: char| if self.perm & b != 0 { c } else { '-' };
        format!(
            "{tag}:{qualifier}:{}{}{}",
            bit(4, 'r'),
            bit(2, 'w'),
            bit(1, 'x')
        )
    }
}

/// Parses the `system.posix_acl_access` xattr: a little-endian u32 version (2), then 8-byte
/// entries of a u16 tag, a u16 permission set and a u32 uid or gid (ignored, and
/// `0xffffffff` on disk, for the entries without a qualifier), as the kernel's
/// `posix_acl_xattr_header` and `posix_acl_xattr_entry` lay them out.
pub fn parse_acl_xattr(bytes: &[u8]) -> Result<Vec<AclEntry>, String> {
    let (head, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or("the ACL xattr is shorter than its 4-byte header")?;
    let version = u32::from_le_bytes(*head);
    if version != 2 {
        return Err(format!(
            "the ACL xattr has version {version}, not 2 (POSIX_ACL_XATTR_VERSION)"
        ));
    }
    let (chunks, tail) = rest.as_chunks::<8>();
    if !tail.is_empty() {
        return Err(format!(
            "the ACL xattr's {} bytes of entries are not a multiple of 8",
            rest.len()
        ));
    }
    chunks
        .iter()
        .map(|c| {
            let [t0, t1, p0, p1, i0, i1, i2, i3] = *c;
            let tag = match u16::from_le_bytes([t0, t1]) {
                0x01 => AclTag::UserObj,
                0x02 => AclTag::User,
                0x04 => AclTag::GroupObj,
                0x08 => AclTag::Group,
                0x10 => AclTag::Mask,
                0x20 => AclTag::Other,
                other => return Err(format!("the ACL xattr has an unknown tag {other:#x}")),
            };
            let perm = u16::from_le_bytes([p0, p1]);
            let perm = u8::try_from(perm)
                .ok()
                .filter(|p| *p <= 7)
                .ok_or_else(|| format!("the ACL xattr has the permission set {perm:#x}"))?;
            let id = matches!(tag, AclTag::User | AclTag::Group)
                .then(|| u32::from_le_bytes([i0, i1, i2, i3]));
            Ok(AclEntry { tag, perm, id })
        })
        .collect()
}

/// One entry of `kvm.device_acl`'s text form, for [`may_read_write`]: the tag, the qualifier
/// (a uid, or a group's name) and `rwx` as bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclText {
    pub tag: AclTag,
    pub qualifier: String,
    pub perm: u8,
}

/// Parses `user:1000:rw-` and the like, as [`AclEntry::to_text`] writes them.
pub fn parse_acl_text(entry: &str) -> Result<AclText, String> {
    let bad = || format!("`{entry}` is not an ACL entry of the form tag:qualifier:rwx");
    let (tag, rest) = entry.split_once(':').ok_or_else(bad)?;
    let (qualifier, perms) = rest.rsplit_once(':').ok_or_else(bad)?;
    let tag = match (tag, qualifier.is_empty()) {
        ("user", true) => AclTag::UserObj,
        ("user", false) => AclTag::User,
        ("group", true) => AclTag::GroupObj,
        ("group", false) => AclTag::Group,
        ("mask", true) => AclTag::Mask,
        ("other", true) => AclTag::Other,
        _ => return Err(bad()),
    };
    let mut perm = 0;
    let mut chars = perms.chars();
    for (bit, want) in [(4, 'r'), (2, 'w'), (1, 'x')] {
        match chars.next() {
            Some(c) if c == want => perm |= bit,
            Some('-') => {}
            _ => return Err(bad()),
        }
    }
    if chars.next().is_some() {
        return Err(bad());
    }
    Ok(AclText {
        tag,
        qualifier: qualifier.to_owned(),
        perm,
    })
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

/// Whether a user with `uid` and the session `groups` (names) may read and write a file
/// owned by `owner`:`group` with `mode` and the access ACL `acl` (empty: none), as the
/// kernel decides it (acl(5), "Access check algorithm"; `posix_acl_permission` in the
/// kernel): root may always (CAP_DAC_OVERRIDE); the owner gets the owner entry; a named user
/// entry for `uid` is granted what it and the mask both allow; else every group entry (the
/// owning group and named groups) that matches a session group is looked at, and access is
/// granted when one of them, masked, allows it and denied when none does; else the other
/// entry. Without an ACL the owner, group and other bits of `mode` play those parts.
pub fn may_read_write(
    mode: u32,
    owner: i64,
    group: &str,
    uid: i64,
    groups: &[String],
    acl: &[AclText],
) -> bool {
    const RW: u8 = 0o6;
    let bits = |shift: u32| u8::try_from((mode >> shift) & 0o7).unwrap_or(0);
    if uid == 0 {
        return true;
    }
    let entry = |tag: AclTag| acl.iter().find(|e| e.tag == tag).map(|e| e.perm);
    if uid == owner {
        return entry(AclTag::UserObj).unwrap_or_else(|| bits(6)) & RW == RW;
    }
    let mask = entry(AclTag::Mask).unwrap_or(0o7);
    let uid_text = uid.to_string();
    if let Some(named) = acl
        .iter()
        .find(|e| e.tag == AclTag::User && e.qualifier == uid_text)
    {
        return named.perm & mask & RW == RW;
    }
    let in_session = |name: &str| groups.iter().any(|g| g == name);
    let group_obj = entry(AclTag::GroupObj).unwrap_or_else(|| bits(3));
    let mut matched = Vec::new();
    if in_session(group) {
        matched.push(group_obj);
    }
    matched.extend(
        acl.iter()
            .filter(|e| e.tag == AclTag::Group && in_session(&e.qualifier))
            .map(|e| e.perm),
    );
    if !matched.is_empty() {
        // Without an ACL there is no mask: the group bits stand alone.
        let mask = if acl.is_empty() { 0o7 } else { mask };
        return matched.iter().any(|p| p & mask & RW == RW);
    }
    entry(AclTag::Other).unwrap_or_else(|| bits(0)) & RW == RW
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
            "kvm.device_acl",
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
        let acl = facts
            .list("kvm.device_acl")
            .ok_or("kvm.device_acl is not set")?
            .iter()
            .map(|e| parse_acl_text(e).map_err(|m| format!("kvm.device_acl: {m}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(may_read_write(mode, owner, group, uid, groups, &acl))
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
        assert!(may_read_write(0o660, 0, "kvm", 1000, &kvm, &[]));
        assert!(!may_read_write(0o660, 0, "kvm", 1000, &plain, &[]));
        assert!(may_read_write(0o666, 0, "kvm", 1000, &plain, &[]));
        assert!(may_read_write(0o600, 0, "kvm", 0, &plain, &[]));
        assert!(may_read_write(0o600, 1000, "kvm", 1000, &plain, &[]));
        // The owner gets the owner bits only, even when the group bits would allow more.
        assert!(!may_read_write(0o066, 1000, "kvm", 1000, &kvm, &[]));
        assert!(!may_read_write(0o640, 0, "kvm", 1000, &kvm, &[]));
    }

    fn hex(text: &str) -> Vec<u8> {
        text.trim_start_matches("0x")
            .as_bytes()
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn acl(entries: &[&str]) -> Vec<AclText> {
        entries.iter().map(|e| parse_acl_text(e).unwrap()).collect()
    }

    /// `getfattr -n system.posix_acl_access -e hex` after `setfacl -m u:1000:rw` on a 0640
    /// root:root file (ext4, Linux 6.x): what systemd-logind's uaccess rule leaves on /dev/kvm.
    const UACCESS: &str = "0x0200000001000600ffffffff02000600e803000004000400ffffffff10000600ffffffff20000400ffffffff";
    /// The same after `setfacl -m g:992:rw,m::r`.
    const GROUP_MASKED: &str = "0x0200000001000600ffffffff02000600e803000004000400ffffffff08000600e003000010000400ffffffff20000400ffffffff";

    #[test]
    fn acl_xattr_dumped_by_getfattr_parses_as_getfacl_prints_it() {
        let kvm = crate::facts::user::parse_group("root:x:0:\nkvm:x:992:\n");
        let text = |bytes: &str| -> Vec<String> {
            parse_acl_xattr(&hex(bytes))
                .unwrap()
                .iter()
                .map(|e| e.to_text(&kvm))
                .collect()
        };
        assert_eq!(
            text(UACCESS),
            [
                "user::rw-",
                "user:1000:rw-",
                "group::r--",
                "mask::rw-",
                "other::r--"
            ]
        );
        assert_eq!(
            text(GROUP_MASKED),
            [
                "user::rw-",
                "user:1000:rw-",
                "group::r--",
                "group:kvm:rw-",
                "mask::r--",
                "other::r--"
            ]
        );
        // An unmapped gid is shown as the number, as getfacl does.
        let entries = parse_acl_xattr(&hex(GROUP_MASKED)).unwrap();
        assert_eq!(entries[3].to_text(&[]), "group:992:rw-");
    }

    #[test]
    fn every_truncation_and_corruption_of_real_acl_bytes_is_an_error_not_a_panic() {
        for sample in [UACCESS, GROUP_MASKED] {
            let bytes = hex(sample);
            for len in 0..bytes.len() {
                let cut = parse_acl_xattr(&bytes[..len]);
                // Whole entries after the header parse; anything else is refused.
                assert_eq!(cut.is_ok(), len >= 4 && (len - 4) % 8 == 0, "{len}");
            }
            for at in 0..bytes.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut b = bytes.clone();
                    b[at] ^= flip;
                    let _ = parse_acl_xattr(&b);
                }
            }
        }
        assert!(
            parse_acl_xattr(&hex("0x01000000"))
                .unwrap_err()
                .contains("version 1")
        );
        assert!(
            parse_acl_xattr(&hex("0x020000004000060000000000"))
                .unwrap_err()
                .contains("tag 0x40")
        );
        assert!(
            parse_acl_xattr(&hex("0x020000000100080000000000"))
                .unwrap_err()
                .contains("permission set 0x8")
        );
    }

    #[test]
    fn acl_text_round_trips_and_refuses_garbage() {
        for entry in [
            "user::rw-",
            "user:1000:rw-",
            "group:kvm:r-x",
            "mask::---",
            "other::rwx",
        ] {
            let parsed = parse_acl_text(entry).unwrap();
            let back = AclEntry {
                tag: parsed.tag,
                perm: parsed.perm,
                id: None,
            };
            if parsed.qualifier.is_empty() {
                assert_eq!(back.to_text(&[]), entry);
            }
        }
        for bad in [
            "",
            "user",
            "user:1000",
            "mask:x:rw-",
            "user::wr-",
            "user::rw-x",
            "wheel::rw-",
        ] {
            assert!(parse_acl_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn acl_access_follows_the_kernel_algorithm() {
        let plain = vec!["alice".to_owned()];
        let kvm = vec!["alice".to_owned(), "kvm".to_owned()];
        let uaccess = acl(&[
            "user::rw-",
            "user:1000:rw-",
            "group::rw-",
            "mask::rw-",
            "other::---",
        ]);
        // logind's uaccess entry opens a root:kvm 0660 device to the seat's user.
        assert!(may_read_write(0o660, 0, "kvm", 1000, &plain, &uaccess));
        assert!(!may_read_write(0o660, 0, "kvm", 1001, &plain, &uaccess));
        assert!(may_read_write(0o660, 0, "kvm", 1001, &kvm, &uaccess));
        // The mask limits named users and every group entry, not the owner or others.
        let masked = acl(&[
            "user::rw-",
            "user:1000:rw-",
            "group::rw-",
            "mask::r--",
            "other::rw-",
        ]);
        assert!(!may_read_write(0o646, 0, "kvm", 1000, &plain, &masked));
        assert!(!may_read_write(0o646, 0, "kvm", 1001, &kvm, &masked));
        assert!(may_read_write(0o646, 1001, "kvm", 1001, &kvm, &masked));
        // A matching named user entry is final: others' bits do not rescue it.
        let denied = acl(&[
            "user::rw-",
            "user:1000:---",
            "group::rw-",
            "mask::rw-",
            "other::rw-",
        ]);
        assert!(!may_read_write(0o666, 0, "kvm", 1000, &kvm, &denied));
        // A matching group entry that does not allow it denies, even when other would.
        let group_ro = acl(&[
            "user::rw-",
            "group::r--",
            "group:libvirt:r--",
            "mask::rw-",
            "other::rw-",
        ]);
        let libvirt = vec!["alice".to_owned(), "libvirt".to_owned()];
        assert!(!may_read_write(0o646, 0, "kvm", 1000, &libvirt, &group_ro));
        assert!(may_read_write(0o646, 0, "kvm", 1000, &plain, &group_ro));
        // Any matching group entry that allows it grants.
        let named_group = acl(&[
            "user::rw-",
            "group::---",
            "group:libvirt:rw-",
            "mask::rw-",
            "other::---",
        ]);
        assert!(may_read_write(
            0o660,
            0,
            "kvm",
            1000,
            &libvirt,
            &named_group
        ));
        assert!(!may_read_write(0o660, 0, "kvm", 1000, &kvm, &named_group));
        // Root may always.
        assert!(may_read_write(0o000, 0, "kvm", 0, &plain, &denied));
    }
}
