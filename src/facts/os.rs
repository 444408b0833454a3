//! The operating system: `/etc/os-release`, container and WSL detection, whether systemd booted.

use std::collections::BTreeMap;

use super::{Context, Fact, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("os.id", Text, "ID from /etc/os-release (arch, debian, …)"),
    spec("os.id_like", List, "ID_LIKE from /etc/os-release"),
    spec("os.pretty_name", Text, "PRETTY_NAME from /etc/os-release"),
    spec(
        "os.arch_based",
        Bool,
        "ID or ID_LIKE is arch: pacman checks apply",
    ),
    spec(
        "os.in_container",
        Bool,
        "dockdoc runs inside a container (/.dockerenv, /run/.containerenv, /run/systemd/container)",
    ),
    spec(
        "os.wsl",
        Bool,
        "the kernel is a WSL kernel (osrelease names microsoft/WSL)",
    ),
    spec(
        "os.systemd_booted",
        Bool,
        "systemd is PID 1 (/run/systemd/system exists)",
    ),
];

/// The files os-release(5) names, in the order they are consulted.
const OS_RELEASE_FILES: &[&str] = &["/etc/os-release", "/usr/lib/os-release"];

/// Files whose presence says "this is a container" (Docker, Podman, systemd-nspawn and others).
const CONTAINER_MARKERS: &[&str] = &[
    "/.dockerenv",
    "/run/.containerenv",
    "/run/systemd/container",
];

pub fn gather(ctx: &Context, facts: &mut Facts) {
    gather_os_release(ctx, facts);

    let in_container = CONTAINER_MARKERS.iter().any(|m| ctx.sysroot.exists(m));
    facts.set("os.in_container", Fact::known(in_container));

    let wsl = match ctx.sysroot.read_string("/proc/sys/kernel/osrelease") {
        Ok(release) => Fact::known(is_wsl_release(&release)),
        Err(e) => Fact::unknown(e.to_string()),
    };
    facts.set("os.wsl", wsl);

    let booted = match ctx.sysroot.metadata_optional("/run/systemd/system") {
        Ok(m) => Fact::known(m.is_some_and(|m| m.is_dir())),
        Err(e) => Fact::unknown(e.to_string()),
    };
    facts.set("os.systemd_booted", booted);
}

fn gather_os_release(ctx: &Context, facts: &mut Facts) {
    let mut problems = Vec::new();
    let mut text = None;
    for file in OS_RELEASE_FILES {
        match ctx.sysroot.read_optional(file) {
            Ok(Some(t)) => {
                text = Some(t);
                break;
            }
            Ok(None) => problems.push(format!("{file}: not found")),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let Some(text) = text else {
        let reason = problems.join("; ");
        for key in ["os.id", "os.id_like", "os.pretty_name", "os.arch_based"] {
            facts.set(key, Fact::unknown(reason.clone()));
        }
        return;
    };
    let fields = parse_os_release(&text);
    // Defaults from os-release(5): ID=linux, PRETTY_NAME="Linux".
    let id = fields
        .get("ID")
        .cloned()
        .unwrap_or_else(|| "linux".to_owned());
    let id_like: Vec<String> = fields
        .get("ID_LIKE")
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let pretty = fields
        .get("PRETTY_NAME")
        .cloned()
        .unwrap_or_else(|| "Linux".to_owned());
    let arch_based = id == "arch" || id_like.iter().any(|l| l == "arch");
    facts.set("os.id", Fact::known(id));
    facts.set("os.id_like", Fact::known(id_like));
    facts.set("os.pretty_name", Fact::known(pretty));
    facts.set("os.arch_based", Fact::known(arch_based));
}

/// Whether a kernel release string is a WSL kernel (`5.15.153.1-microsoft-standard-WSL2`,
/// `4.4.0-19041-Microsoft`).
pub fn is_wsl_release(release: &str) -> bool {
    release.to_ascii_lowercase().contains("microsoft") || release.contains("WSL")
}

/// Parses os-release(5): `KEY=value` lines, values optionally in single or double quotes,
/// backslash escapes (`\"`, `\\`, `\$`, `` \` ``) inside double quotes, `#` comments.
/// Lines that are not assignments are ignored.
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        out.insert(key.to_owned(), unquote(raw.trim()));
    }
    out
}

fn unquote(raw: &str) -> String {
    let mut chars = raw.chars();
    match chars.next() {
        Some('"') => {
            let mut out = String::new();
            let mut escaped = false;
            for c in chars {
                if escaped {
                    if !matches!(c, '"' | '\\' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                } else {
                    out.push(c);
                }
            }
            out
        }
        Some('\'') => chars.take_while(|c| *c != '\'').collect(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCH: &str = "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\nANSI_COLOR=\"38;2;23;147;209\"\nHOME_URL=\"https://archlinux.org/\"\nLOGO=archlinux-logo\n";

    #[test]
    fn parses_arch_os_release() {
        let f = parse_os_release(ARCH);
        assert_eq!(f["ID"], "arch");
        assert_eq!(f["PRETTY_NAME"], "Arch Linux");
        assert_eq!(f["ANSI_COLOR"], "38;2;23;147;209");
        assert_eq!(f.get("ID_LIKE"), None);
    }

    #[test]
    fn handles_quotes_escapes_and_comments() {
        let f = parse_os_release(
            "# comment\nID=endeavouros\nID_LIKE='arch'\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\nbroken line\n=x\n",
        );
        assert_eq!(f["ID"], "endeavouros");
        assert_eq!(f["ID_LIKE"], "arch");
        assert_eq!(f["PRETTY_NAME"], "A \"quoted\" $name");
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn recognises_wsl_kernels() {
        assert!(is_wsl_release("5.15.153.1-microsoft-standard-WSL2\n"));
        assert!(is_wsl_release("4.4.0-19041-Microsoft"));
        assert!(!is_wsl_release("6.10.5-arch1-1"));
    }
}
