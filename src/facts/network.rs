//! The host's network configuration as files show it: the nftables service and its ruleset
//! (`/etc/nftables.conf` and the files it `include`s, `*.wants/nftables.service` under
//! /etc/systemd/system), the default route's interface (`/proc/net/route`, where Docker's
//! bridges' routes are also compared with the other interfaces') and its forwarding
//! sysctl (`/proc/sys/net/ipv4/conf/<if>/forwarding`), the systemd-networkd `.network` file that
//! manages that link, and the nameservers the Docker daemon gives containers (`/etc/resolv.conf`,
//! or systemd-resolved's `/run/systemd/resolve/resolv.conf` in place of its stub).

use std::net::IpAddr;

use super::pacman::LocalDb;
use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "network.nftables_enabled",
        Bool,
        "nftables.service is enabled: a `nftables.service` link exists in a `*.wants/` directory under /etc/systemd/system",
    ),
    spec(
        "network.nftables_flush_ruleset",
        Text,
        "where /etc/nftables.conf, or a file it includes, says `flush ruleset` (`/etc/nftables.conf:4`); null if nowhere or without the file",
    ),
    spec(
        "network.uplink_interface",
        Text,
        "the interface of the default IPv4 route with the lowest metric (/proc/net/route); null without a default route",
    ),
    spec(
        "network.uplink_forwarding",
        Bool,
        "net.ipv4.conf.<uplink>.forwarding is 1 (/proc/sys/net/ipv4/conf/<uplink>/forwarding); null without a default route",
    ),
    spec(
        "network.uplink_network_file",
        Text,
        "the systemd-networkd .network file whose [Match] takes the uplink (/etc, /run, /usr/lib systemd/network, first in lexical order); null if none",
    ),
    spec(
        "network.uplink_forwarding_setting",
        Text,
        "the .network setting that allows forwarding for the installed systemd (pacman database): `IPv4Forwarding=yes` from systemd 256, `IPForward=yes` before",
    ),
    spec(
        "network.docker_bridge_overlaps",
        List,
        "where a Docker bridge's route (docker0, br-<id>) overlaps a route of another interface (not the default route) or holds a nameserver of network.nameservers (/proc/net/route, the main table), as `172.17.0.0/16 (docker0) overlaps 172.16.0.0/12 (tun0)`",
    ),
    spec(
        "network.docker_bridge_overlap",
        Bool,
        "network.docker_bridge_overlaps is not empty: the host reaches those addresses through Docker's bridge, or misses its containers",
    ),
    spec(
        "network.resolv_conf",
        Text,
        "the resolv.conf the Docker daemon copies into containers: /etc/resolv.conf, or /run/systemd/resolve/resolv.conf when /etc/resolv.conf lists only systemd-resolved's stub 127.0.0.53",
    ),
    spec(
        "network.nameservers",
        List,
        "the `nameserver` addresses in network.resolv_conf, in order",
    ),
    spec(
        "network.nameservers_loopback_only",
        Bool,
        "network.nameservers is not empty and every address in it is a loopback address (127.0.0.0/8, ::1)",
    ),
    spec(
        "network.resolv_conf_unusable",
        Text,
        "why /etc/resolv.conf gives the Docker daemon no nameserver: it does not exist, it is a link whose target does not exist in the root (named, links followed inside the root), or it lists no nameserver address; null when it lists one",
    ),
    spec(
        "network.container_dns_from",
        Text,
        "where the Docker daemon takes the nameservers of containers on the default bridge: daemon.json's `dns` key when it lists addresses, else network.resolv_conf",
    ),
    spec(
        "network.container_dns",
        List,
        "the nameservers network.container_dns_from lists: docker.daemon_json_dns, else network.nameservers",
    ),
    spec(
        "network.container_dns_loopback_only",
        Bool,
        "network.container_dns is not empty and every address in it is a loopback address (127.0.0.0/8, ::1), which a container on the default bridge cannot reach",
    ),
    spec(
        "network.iptables_legacy_tables",
        List,
        "tables of the legacy iptables backend the kernel holds (`ip nat`, `ip6 filter`), from /proc/net/ip_tables_names and ip6_tables_names; empty when those files are absent",
    ),
    spec(
        "network.iptables_pacsave_files",
        List,
        "rule files pacman set aside when the iptables package was switched (/etc/iptables/*.pacsave)",
    ),
    spec(
        "network.iptables_both_backends",
        Bool,
        "derived: tables of the backend iptables does not use are loaded (legacy tables, or the legacy modules, while iptables is nft; nft's NAT module while it is legacy)",
    ),
];

const NFTABLES_CONF: &str = "/etc/nftables.conf";
const IPTABLES_DIR: &str = "/etc/iptables";
/// Where nft looks up an `include` of a bare file name: its sysconfdir, `/usr/share` on Arch.
const NFT_INCLUDE_PATH: &str = "/usr/share";
const SYSTEMD_SYSTEM: &str = "/etc/systemd/system";
const ROUTE: &str = "/proc/net/route";
const RESOLV_CONF: &str = "/etc/resolv.conf";
const RESOLVED_UPLINK_CONF: &str = "/run/systemd/resolve/resolv.conf";
const RESOLVED_STUB: &str = "127.0.0.53";
/// systemd-networkd's directories, highest priority first (systemd.network(5)).
const NETWORK_DIRS: &[&str] = &[
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/lib/systemd/network",
];
/// How deep `include`s may nest before dockdoc stops following them (nft itself allows 16).
const MAX_INCLUDE_DEPTH: usize = 16;
/// The first systemd release whose .network files take `IPv4Forwarding=` (replacing `IPForward=`).
const IPV4_FORWARDING_SINCE: u64 = 256;

/// Reads every file fact of this module through the sysroot (the files are listed in the module
/// docs). A file that cannot be read or parsed makes the facts drawn from it unknown with the
/// file and the reason; nothing here fails the run.
pub fn gather(ctx: &Context, facts: &mut Facts) {
    facts.set("network.nftables_enabled", nftables_enabled(ctx));
    facts.set(
        "network.nftables_flush_ruleset",
        match flush_ruleset(ctx) {
            Ok(found) => Fact::known(found),
            Err(e) => Fact::unknown(e),
        },
    );
    let route = ctx
        .sysroot
        .read_string(ROUTE)
        .map_err(|e| e.to_string())
        .and_then(|text| routes(&text));
    gather_uplink(ctx, facts, &route);
    gather_resolv_conf(ctx, facts);
    gather_bridge_overlaps(facts, &route);
    facts.set("network.resolv_conf_unusable", resolv_conf_unusable(ctx));
    facts.set("network.iptables_legacy_tables", legacy_tables(ctx));
    facts.set(
        "network.iptables_pacsave_files",
        match dir_names(ctx, IPTABLES_DIR) {
            Ok(names) => Fact::known(
                names
                    .into_iter()
                    .filter(|n| n.ends_with(".pacsave"))
                    .map(|n| format!("{IPTABLES_DIR}/{n}"))
                    .collect::<Vec<_>>(),
            ),
            Err(e) => Fact::unknown(e),
        },
    );
}

/// The legacy backend's tables: `/proc/net/ip_tables_names` and `ip6_tables_names` list one
/// table per line while the legacy `ip_tables`/`ip6_tables` modules hold any; the files do not
/// exist while those modules are not loaded.
fn legacy_tables(ctx: &Context) -> Fact {
    let mut tables = Vec::new();
    for (file, family) in [
        ("/proc/net/ip_tables_names", "ip"),
        ("/proc/net/ip6_tables_names", "ip6"),
    ] {
        match ctx.sysroot.read_optional(file) {
            Ok(Some(text)) => {
                for (i, name) in text.lines().map(str::trim).enumerate() {
                    if name.is_empty() {
                        continue;
                    }
                    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Fact::unknown(format!(
                            "{file}:{}: `{name}` is not a table name",
                            i + 1
                        ));
                    }
                    tables.push(format!("{family} {name}"));
                }
            }
            Ok(None) => {}
            Err(e) => return Fact::unknown(e.to_string()),
        }
    }
    Fact::known(tables)
}

/// Combines the iptables backend (`kernel.iptables_backend`), the module-based mismatch the
/// kernel probe found and the legacy tables into `network.iptables_both_backends`.
pub fn derive(facts: &mut Facts) {
    let backend = facts.get("kernel.iptables_backend");
    let modules = facts.get("kernel.iptables_backend_mismatch");
    let legacy = facts.get("network.iptables_legacy_tables");
    let both = match (backend.value(), modules.as_bool(), legacy.as_list()) {
        (_, Some(true), _) => Fact::known(true),
        (Some(Value::Null), _, _) => Fact::known(false),
        (Some(Value::Text(b)), Some(false), Some(tables)) if b == "nft" => {
            Fact::known(!tables.is_empty())
        }
        (Some(Value::Text(b)), Some(false), _) if b == "legacy" => Fact::known(false),
        (None, _, _) => Fact::unknown(format!("kernel.iptables_backend: {backend}")),
        (_, None, _) => Fact::unknown(format!("kernel.iptables_backend_mismatch: {modules}")),
        (_, _, None) => Fact::unknown(format!("network.iptables_legacy_tables: {legacy}")),
        (Some(other), _, _) => Fact::unknown(format!(
            "kernel.iptables_backend has the unexpected value `{other}`"
        )),
    };
    facts.set("network.iptables_both_backends", both);
    let overlaps = facts.get("network.docker_bridge_overlaps");
    facts.set(
        "network.docker_bridge_overlap",
        match overlaps.as_list() {
            Some(l) => Fact::known(!l.is_empty()),
            None => overlaps,
        },
    );
    derive_container_dns(facts);
}

/// The nameservers containers on the default bridge are given, before the daemon drops
/// loopback ones: daemon.json's `dns` replaces the host's list when it names any address
/// (moby's `OverrideNameServers`; `TransformForLegacyNw` then keeps the list as it is, loopback
/// addresses included), else the host's resolv.conf as network.resolv_conf chose it.
fn derive_container_dns(facts: &mut Facts) {
    let keys = [
        "network.container_dns_from",
        "network.container_dns",
        "network.container_dns_loopback_only",
    ];
    let dns = facts.get("docker.daemon_json_dns");
    let chosen = match dns.as_list() {
        Some(list) if !list.is_empty() => {
            let path = facts
                .text("docker.daemon_json_path")
                .unwrap_or("/etc/docker/daemon.json");
            Ok((format!("the `dns` key of {path}"), list.to_vec()))
        }
        Some(_) => match (
            facts.text("network.resolv_conf"),
            facts.list("network.nameservers"),
        ) {
            (Some(path), Some(ns)) => Ok((path.to_owned(), ns.to_vec())),
            _ => Err(format!(
                "network.resolv_conf: {}",
                facts.get("network.resolv_conf")
            )),
        },
        None => Err(format!("docker.daemon_json_dns: {dns}")),
    };
    match chosen {
        Ok((from, list)) => {
            let loopback_only = !list.is_empty()
                && list.iter().all(|a| {
                    a.split('%')
                        .next()
                        .and_then(|a| a.parse::<IpAddr>().ok())
                        .is_some_and(|a| a.is_loopback())
                });
            facts.set("network.container_dns_from", Fact::known(from));
            facts.set("network.container_dns", Fact::known(list));
            facts.set(
                "network.container_dns_loopback_only",
                Fact::known(loopback_only),
            );
        }
        Err(why) => {
            for key in keys {
                facts.set(key, Fact::unknown(why.clone()));
            }
        }
    }
}

/// Why /etc/resolv.conf gives the daemon no nameserver, or null. A link is followed inside the
/// root, so a link to systemd-resolved's stub file while resolved is not running (its /run
/// files absent) is told apart from a missing /etc/resolv.conf.
fn resolv_conf_unusable(ctx: &Context) -> Fact {
    match ctx.sysroot.read_optional(RESOLV_CONF) {
        Ok(Some(text)) if nameservers(&text).is_empty() => {
            Fact::known(format!("{RESOLV_CONF} lists no nameserver address"))
        }
        Ok(Some(_)) => Fact::known(Value::Null),
        Ok(None) => match ctx.sysroot.symlink_metadata(RESOLV_CONF) {
            Ok(m) if m.file_type().is_symlink() => match ctx.sysroot.resolve(RESOLV_CONF) {
                Ok(r) => Fact::known(format!(
                    "{RESOLV_CONF} is a link to {}, which does not exist",
                    r.path
                )),
                Err(e) => Fact::unknown(e.to_string()),
            },
            Ok(_) => Fact::unknown(format!("{RESOLV_CONF} exists but could not be read")),
            Err(crate::error::ProbeError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Fact::known(format!("{RESOLV_CONF} does not exist"))
            }
            Err(e) => Fact::unknown(e.to_string()),
        },
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// The names in a directory, sorted; none when it does not exist.
fn dir_names(ctx: &Context, dir: &str) -> Result<Vec<String>, String> {
    match ctx.sysroot.read_dir_names(dir) {
        Ok(names) => Ok(names),
        Err(crate::error::ProbeError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether any `*.wants/` directory under /etc/systemd/system holds a `nftables.service` link.
fn nftables_enabled(ctx: &Context) -> Fact {
    let names = match dir_names(ctx, SYSTEMD_SYSTEM) {
        Ok(names) => names,
        Err(e) => return Fact::unknown(e),
    };
    let enabled = names.iter().filter(|n| n.ends_with(".wants")).any(|wants| {
        // The link's target lies outside the root (/usr/lib/systemd/system/…): its own
        // metadata is what says it exists.
        ctx.sysroot
            .symlink_metadata(&format!("{SYSTEMD_SYSTEM}/{wants}/nftables.service"))
            .is_ok()
    });
    Fact::known(enabled)
}

/// The location (`file:line`) of the first `flush ruleset` in /etc/nftables.conf or the files it
/// includes; `None` when there is none or no /etc/nftables.conf.
fn flush_ruleset(ctx: &Context) -> Result<Option<String>, String> {
    let Some(text) = ctx
        .sysroot
        .read_optional(NFTABLES_CONF)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let mut seen = vec![NFTABLES_CONF.to_owned()];
    find_flush(ctx, NFTABLES_CONF, &text, 0, &mut seen)
}

fn find_flush(
    ctx: &Context,
    path: &str,
    text: &str,
    depth: usize,
    seen: &mut Vec<String>,
) -> Result<Option<String>, String> {
    for statement in nft_statements(text) {
        match statement.words.as_slice() {
            [flush, ruleset, ..] if flush == "flush" && ruleset == "ruleset" => {
                return Ok(Some(format!("{path}:{}", statement.line)));
            }
            [include, target, ..] if include == "include" => {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(format!(
                        "{path}:{}: includes nest deeper than {MAX_INCLUDE_DEPTH}",
                        statement.line
                    ));
                }
                for file in include_files(ctx, path, target, statement.line)? {
                    if seen.contains(&file) {
                        continue;
                    }
                    seen.push(file.clone());
                    let text = ctx
                        .sysroot
                        .read_string(&file)
                        .map_err(|e| format!("{e} (included from {path}:{})", statement.line))?;
                    if let Some(found) = find_flush(ctx, &file, &text, depth + 1, seen)? {
                        return Ok(Some(found));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// One nft statement: its words (quotes removed) and the line it starts on (1-based).
#[derive(Debug, PartialEq, Eq)]
pub struct NftStatement {
    pub line: usize,
    pub words: Vec<String>,
}

/// Splits an nft script into statements: a statement ends at a newline, `;`, `{` or `}`;
/// comments (`#` outside quotes) run to the end of the line; `\` at the end of a line continues
/// the statement. Only the first words of each statement matter to dockdoc.
pub fn nft_statements(text: &str) -> Vec<NftStatement> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut start_line = 1;
    let mut line = 1;
    let mut in_quote = false;
    let mut in_comment = false;
    let mut chars = text.chars().peekable();
    let flush_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    let mut end = |words: &mut Vec<String>, start_line: usize| {
        if !words.is_empty() {
            out.push(NftStatement {
                line: start_line,
                words: std::mem::take(words),
            });
        }
    };
    while let Some(c) = chars.next() {
        if c == '\n' {
            in_comment = false;
            in_quote = false;
            flush_word(&mut word, &mut words);
            end(&mut words, start_line);
            line += 1;
            start_line = line;
            continue;
        }
        if in_comment {
            continue;
        }
        if in_quote {
            if c == '"' {
                in_quote = false;
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '#' => in_comment = true,
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                line += 1;
            }
            ';' | '{' | '}' => {
                flush_word(&mut word, &mut words);
                end(&mut words, start_line);
                start_line = line;
            }
            c if c.is_whitespace() => {
                flush_word(&mut word, &mut words);
                if words.is_empty() {
                    start_line = line;
                }
            }
            c => {
                if words.is_empty() && word.is_empty() {
                    start_line = line;
                }
                word.push(c);
            }
        }
    }
    flush_word(&mut word, &mut words);
    end(&mut words, start_line);
    out
}

/// The files an `include "…"` names, sorted, resolved as nft 1.0 resolves them
/// (`scanner_include_file` in nftables' src/scanner.l): a path starting with `/`, `./` or
/// `../` is taken as it is, from nftables.service's working directory `/`; any other name is
/// looked up in the include path, which is nft's build-time sysconfdir: `/usr/share` for Arch's
/// package (`--sysconfdir=/usr/share` in its PKGBUILD). A `*` or `?` in the last component is
/// matched against that directory, directories excluded; a pattern that matches nothing is no
/// error for nft, a plain path that does not exist is.
fn include_files(
    ctx: &Context,
    from: &str,
    target: &str,
    line: usize,
) -> Result<Vec<String>, String> {
    let explicit = target.starts_with('/') || target.starts_with("./") || target.starts_with("../");
    let absolute = if explicit {
        normalize(&format!("/{target}"))
    } else {
        normalize(&format!("{NFT_INCLUDE_PATH}/{target}"))
    };
    let (dir, pattern) = absolute.rsplit_once('/').unwrap_or(("", absolute.as_str()));
    if !pattern.contains(['*', '?']) {
        return Ok(vec![absolute]);
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    let names = dir_names(ctx, dir).map_err(|e| format!("{e} (included from {from}:{line})"))?;
    Ok(names
        .into_iter()
        .filter(|n| glob_match(pattern, n))
        .map(|n| format!("{}/{n}", dir.trim_end_matches('/')))
        .filter(|path| !ctx.sysroot.metadata(path).is_ok_and(|m| m.is_dir()))
        .collect())
}

/// An absolute path with `.`, `..` and repeated slashes resolved by their names, as the kernel
/// resolves them when no symlink is involved; `..` at the root stays at the root, so a path
/// never leaves the sysroot.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Shell-style matching of `*` and `?` (no character classes), as systemd's `Name=` and nft's
/// include globs use for names.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// One IPv4 route of `/proc/net/route` (the main table), destination and mask as numbers
/// (172.17.0.0 is 0xAC110000).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub iface: String,
    pub dest: u32,
    pub mask: u32,
    pub flags: u32,
    pub metric: u32,
}

const RTF_UP: u32 = 0x1;
/// A route that rejects what it matches (unreachable, prohibit).
const RTF_REJECT: u32 = 0x0200;

impl Route {
    /// `172.17.0.0/16`.
    pub fn cidr(&self) -> String {
        format!(
            "{}/{}",
            std::net::Ipv4Addr::from(self.dest),
            self.mask.count_ones()
        )
    }

    fn overlaps(&self, other: &Route) -> bool {
        let both = self.mask & other.mask;
        self.dest & both == other.dest & both
    }

    fn holds(&self, addr: std::net::Ipv4Addr) -> bool {
        u32::from(addr) & self.mask == self.dest & self.mask
    }
}

/// The routes of `/proc/net/route` (hex fields). An error names the line that does not parse.
pub fn routes(text: &str) -> Result<Vec<Route>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.split_whitespace().next() == Some("Iface") => {}
        _ => return Err(format!("{ROUTE}:1: not the route table's header line")),
    }
    for (i, line) in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [
            iface,
            dest,
            _gateway,
            flags,
            _refcnt,
            _use,
            metric,
            mask,
            ..,
        ] = fields.as_slice()
        else {
            return Err(format!("{ROUTE}:{}: fewer than 8 fields", i + 1));
        };
        let hex = |s: &str| {
            u32::from_str_radix(s, 16)
                .map_err(|e| format!("{ROUTE}:{}: `{s}` is not hex: {e}", i + 1))
        };
        let (dest, flags, mask) = (hex(dest)?, hex(flags)?, hex(mask)?);
        let metric: u32 = metric
            .parse()
            .map_err(|e| format!("{ROUTE}:{}: metric `{metric}`: {e}", i + 1))?;
        // The kernel prints the network-order word as a native integer (0100007F is 127.0.0.1
        // on a little-endian machine): its native bytes are the address's.
        let addr = |v: u32| u32::from_be_bytes(v.to_ne_bytes());
        let (dest, mask) = (addr(dest), addr(mask));
        out.push(Route {
            iface: (*iface).to_owned(),
            dest,
            mask,
            flags,
            metric,
        });
    }
    Ok(out)
}

/// The interface of the default IPv4 route from `/proc/net/route`: the `RTF_UP` route with
/// destination and mask 0 and the lowest metric. `Ok(None)` when there is no default route; an
/// error names the line that does not parse.
pub fn default_route_interface(text: &str) -> Result<Option<String>, String> {
    Ok(default_route(&routes(text)?))
}

fn default_route(routes: &[Route]) -> Option<String> {
    routes
        .iter()
        .filter(|r| r.dest == 0 && r.mask == 0 && r.flags & RTF_UP != 0)
        .min_by_key(|r| r.metric)
        .map(|r| r.iface.clone())
}

/// Where Docker's bridges overlap what the host reaches another way.
fn gather_bridge_overlaps(facts: &mut Facts, route: &Result<Vec<Route>, String>) {
    let fact = match route {
        Err(e) => Fact::unknown(e.clone()),
        Ok(routes) => {
            let listed = facts.get("network.nameservers");
            let nameservers: Vec<IpAddr> = listed
                .as_list()
                .map(|l| l.iter().filter_map(|a| a.parse().ok()).collect())
                .unwrap_or_default();
            let found = bridge_overlaps(routes, &nameservers);
            if found.is_empty() && listed.as_list().is_none() {
                Fact::unknown(format!("network.nameservers: {listed}"))
            } else {
                Fact::known(found)
            }
        }
    };
    facts.set("network.docker_bridge_overlaps", fact);
}

/// Whether an interface is one of Docker's bridges: docker0, or `br-` and the first 12 hex
/// digits of a network's id (libnetwork's bridge driver).
pub fn is_docker_bridge(iface: &str) -> bool {
    iface == "docker0"
        || iface
            .strip_prefix("br-")
            .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where a Docker bridge's subnet takes addresses the host reaches another way: a route of
/// another interface that overlaps it (a LAN, a VPN; not the default route or a full tunnel's
/// halves, which every subnet is inside), or a nameserver inside it. Each as one line: `172.17.0.0/16 (docker0) overlaps
/// 172.16.0.0/12 (tun0)`, `172.17.0.0/16 (docker0) holds the nameserver 172.17.0.2`.
pub fn bridge_overlaps(routes: &[Route], nameservers: &[IpAddr]) -> Vec<String> {
    let up = |r: &&Route| r.flags & RTF_UP != 0;
    let bridges: Vec<&Route> = routes
        .iter()
        .filter(up)
        .filter(|r| is_docker_bridge(&r.iface) && r.mask != 0)
        .collect();
    let mut out = Vec::new();
    for b in &bridges {
        for r in routes.iter().filter(up) {
            // Not compared: the default route and a full tunnel's two halves (0.0.0.0/1 and
            // 128.0.0.0/1, OpenVPN's `redirect-gateway def1`), which hold every subnet as the
            // default route does; blackhole, unreachable and prohibit routes (no interface,
            // RTF_REJECT); and Docker's other bridges.
            if r.mask.count_ones() <= 1
                || r.iface == "*"
                || r.flags & RTF_REJECT != 0
                || is_docker_bridge(&r.iface)
                || !b.overlaps(r)
            {
                continue;
            }
            out.push(format!(
                "{} ({}) overlaps {} ({})",
                b.cidr(),
                b.iface,
                r.cidr(),
                r.iface
            ));
        }
        for ns in nameservers {
            if let IpAddr::V4(v4) = ns
                && b.holds(*v4)
            {
                out.push(format!(
                    "{} ({}) holds the nameserver {v4}",
                    b.cidr(),
                    b.iface
                ));
            }
        }
    }
    out.dedup();
    out
}

fn gather_uplink(ctx: &Context, facts: &mut Facts, route: &Result<Vec<Route>, String>) {
    let keys = [
        "network.uplink_interface",
        "network.uplink_forwarding",
        "network.uplink_network_file",
    ];
    let iface = route
        .clone()
        .map(|routes| default_route(&routes))
        .and_then(|iface| match iface {
            // An interface name is one path component; anything else is not read.
            Some(name) if name.contains('/') || name == "." || name == ".." => {
                Err(format!("{ROUTE}: `{name}` is not an interface name"))
            }
            other => Ok(other),
        });
    match iface {
        Err(e) => {
            for key in keys {
                facts.set(key, Fact::unknown(e.clone()));
            }
        }
        Ok(None) => {
            for key in keys {
                facts.set(key, Fact::known(Value::Null));
            }
        }
        Ok(Some(iface)) => {
            let forwarding = {
                let file = format!("/proc/sys/net/ipv4/conf/{iface}/forwarding");
                match ctx.sysroot.read_string(&file) {
                    Ok(s) => match s.trim() {
                        "1" => Fact::known(true),
                        "0" => Fact::known(false),
                        other => Fact::unknown(format!("{file}: `{other}`, expected 0 or 1")),
                    },
                    Err(e) => Fact::unknown(e.to_string()),
                }
            };
            facts.set("network.uplink_forwarding", forwarding);
            facts.set(
                "network.uplink_network_file",
                match network_file_for(ctx, &iface) {
                    Ok(file) => Fact::known(file),
                    Err(e) => Fact::unknown(e),
                },
            );
            facts.set("network.uplink_interface", Fact::known(iface));
        }
    }
    facts.set("network.uplink_forwarding_setting", forwarding_setting(ctx));
}

/// The `.network` file systemd-networkd applies to `iface`: every `*.network` of the three
/// directories (a name in /etc hides the same name in /run and /usr/lib; an empty file or a
/// link to /dev/null masks it), in lexical order of the file names, the first whose [Match]
/// takes the link.
fn network_file_for(ctx: &Context, iface: &str) -> Result<Option<String>, String> {
    let mut files: Vec<(String, String)> = Vec::new();
    for dir in NETWORK_DIRS {
        let names = dir_names(ctx, dir)?;
        for name in names.into_iter().filter(|n| n.ends_with(".network")) {
            if !files.iter().any(|(n, _)| *n == name) {
                let path = format!("{dir}/{name}");
                files.push((name, path));
            }
        }
    }
    files.sort();
    let mac = ctx
        .sysroot
        .read_optional(&format!("/sys/class/net/{iface}/address"))
        .ok()
        .flatten()
        .map(|s| s.trim().to_ascii_lowercase());
    for (_, path) in files {
        let masked = ctx.sysroot.read_link(&path).is_ok_and(|t| t == "/dev/null");
        if masked {
            continue;
        }
        let text = ctx.sysroot.read_string(&path).map_err(|e| e.to_string())?;
        if text.trim().is_empty() {
            continue;
        }
        if network_matches(&text, iface, mac.as_deref()) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Whether a `.network` file's [Match] section takes the link: every `Name=` list (globs, a
/// leading `!` inverts) and `MACAddress=` list must match; other match keys (Type=, Driver=,
/// Path=, …) are not judged and count as matching. No [Match] section matches every link.
pub fn network_matches(text: &str, iface: &str, mac: Option<&str>) -> bool {
    let mut in_match = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_match = line == "[Match]";
            continue;
        }
        if !in_match {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let (invert, list) = match value.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        if list.is_empty() {
            continue;
        }
        let hit = match key.trim() {
            "Name" => list.split_whitespace().any(|p| glob_match(p, iface)),
            "MACAddress" => match mac {
                Some(mac) => list.split_whitespace().any(|m| m.eq_ignore_ascii_case(mac)),
                None => true,
            },
            _ => continue,
        };
        if hit == invert {
            return false;
        }
    }
    true
}

/// The forwarding setting for the installed systemd, by its version in the pacman database.
fn forwarding_setting(ctx: &Context) -> Fact {
    let both = "IPv4Forwarding=yes (systemd 256 and later) or IPForward=yes (before 256)";
    match LocalDb::open(&ctx.sysroot) {
        Ok(Some(db)) => match db.entry("systemd") {
            Some(entry) => Fact::known(setting_for_version(&entry.version).unwrap_or(both)),
            None => Fact::known(both),
        },
        Ok(None) => Fact::known(both),
        Err(e) => Fact::unknown(e),
    }
}

/// `IPv4Forwarding=yes` for systemd 256 and later, `IPForward=yes` before; `None` when the
/// version (`[epoch:]pkgver-pkgrel`, e.g. `257.5-1`) does not start with a number.
pub fn setting_for_version(version: &str) -> Option<&'static str> {
    let pkgver = version.split_once(':').map_or(version, |(_, v)| v);
    let major: u64 = pkgver
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .filter(|s| !s.is_empty())?
        .parse()
        .ok()?;
    Some(if major >= IPV4_FORWARDING_SINCE {
        "IPv4Forwarding=yes"
    } else {
        "IPForward=yes"
    })
}

/// The `nameserver` addresses of a resolv.conf, in order. An address that does not parse is
/// left out, as the Docker daemon leaves it out (moby's resolvconf `Parse` keeps it apart as
/// invalid); a zone (`%enp3s0`) is dropped, which does not change whether it is loopback.
pub fn nameservers(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next()? != "nameserver" {
                return None;
            }
            let addr = words.next()?;
            // A zone (`fe80::1%eth0`) is not part of the address.
            addr.split('%').next()?.parse().ok()
        })
        .collect()
}

fn gather_resolv_conf(ctx: &Context, facts: &mut Facts) {
    let keys = [
        "network.resolv_conf",
        "network.nameservers",
        "network.nameservers_loopback_only",
    ];
    let read = |path: &str| ctx.sysroot.read_optional(path).map_err(|e| e.to_string());
    let chosen = read(RESOLV_CONF).and_then(|etc| {
        let etc_ns = etc.as_deref().map(nameservers).unwrap_or_default();
        let stub: IpAddr = IpAddr::from([127, 0, 0, 53]);
        if etc_ns == [stub] {
            match read(RESOLVED_UPLINK_CONF)? {
                Some(text) => Ok((RESOLVED_UPLINK_CONF, nameservers(&text))),
                None => Err(format!(
                    "{RESOLV_CONF} lists only systemd-resolved's stub {RESOLVED_STUB}, and {RESOLVED_UPLINK_CONF}, which the Docker daemon reads instead, does not exist"
                )),
            }
        } else {
            Ok((RESOLV_CONF, etc_ns))
        }
    });
    match chosen {
        Ok((path, ns)) => {
            let loopback_only = !ns.is_empty() && ns.iter().all(IpAddr::is_loopback);
            facts.set("network.resolv_conf", Fact::known(path));
            facts.set(
                "network.nameservers",
                Fact::known(ns.iter().map(ToString::to_string).collect::<Vec<_>>()),
            );
            facts.set(
                "network.nameservers_loopback_only",
                Fact::known(loopback_only),
            );
        }
        Err(e) => {
            for key in keys {
                facts.set(key, Fact::unknown(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_skip_comments_and_split_on_braces() {
        let s = nft_statements(
            "#!/usr/bin/nft -f\n# flush ruleset\n\nflush ruleset # all\ntable inet filter {\n  chain input { type filter hook input priority 0; }\n}\ninclude \"/etc/nftables.d/*.nft\"\n",
        );
        assert_eq!(s[0].line, 4);
        assert_eq!(s[0].words, ["flush", "ruleset"]);
        assert_eq!(s[1].words, ["table", "inet", "filter"]);
        assert_eq!(
            s.last().unwrap().words,
            ["include", "/etc/nftables.d/*.nft"]
        );
        assert_eq!(s.last().unwrap().line, 8);
        let one_line = nft_statements("table ip t { chain c { } }; flush ruleset");
        assert_eq!(one_line.last().unwrap().words, ["flush", "ruleset"]);
    }

    #[test]
    fn paths_stay_inside_the_root() {
        assert_eq!(normalize("/etc/nftables.d/../nft/x"), "/etc/nft/x");
        assert_eq!(normalize("/../../etc//shadow/."), "/etc/shadow");
        assert_eq!(normalize(""), "/");
    }

    #[test]
    fn globs() {
        assert!(glob_match("en*", "enp3s0"));
        assert!(glob_match("*.nft", "docker.nft"));
        assert!(glob_match("wl?0", "wlp0") && !glob_match("wl?0", "wlan0"));
        assert!(!glob_match("eth*", "enp3s0"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn versions() {
        assert_eq!(setting_for_version("257.5-1"), Some("IPv4Forwarding=yes"));
        assert_eq!(setting_for_version("256-1"), Some("IPv4Forwarding=yes"));
        assert_eq!(setting_for_version("255.7-1"), Some("IPForward=yes"));
        assert_eq!(setting_for_version("1:255.7-1"), Some("IPForward=yes"));
        assert_eq!(setting_for_version("git-1"), None);
    }
}
