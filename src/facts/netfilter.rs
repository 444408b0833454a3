//! The kernel's nftables ruleset, read over netlink: which of the Docker daemon's own chains
//! exist in this network namespace. Nothing is changed: one `NFT_MSG_GETCHAIN` dump request
//! (the read `nft list chains` makes) on a `NETLINK_NETFILTER` socket, answered by the kernel.
//!
//! The kernel answers nf_tables requests only to a process with CAP_NET_ADMIN, so a plain user
//! gets the fact unknown with that reason. The read costs one socket and a few datagrams (no
//! process is started), and it is made only when it can matter: the daemon answered on a socket
//! of this machine, it manages iptables rules, and iptables uses the nft backend (the legacy
//! backend keeps its chains in x_tables, which this does not read).

use std::time::Duration;

use rustix::io::Errno;
use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, recv, sendto};

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "netfilter.docker_chains_missing",
        List,
        "the Docker daemon's chains that are not in the ruleset of dockdoc's network namespace (`ip filter DOCKER`, `ip filter DOCKER-USER`, `ip nat DOCKER`), read over netlink as root",
    ),
    spec(
        "netfilter.docker_chains_gone",
        Bool,
        "netfilter.docker_chains_missing is not empty",
    ),
];

/// The chains every dockerd with iptables on creates at start, as (nft family, table, chain):
/// through iptables-nft they are chains of the `ip filter` and `ip nat` tables. DOCKER-FORWARD
/// is left out: only Docker 28 and later create it.
pub const DOCKER_CHAINS: &[(u8, &str, &str)] = &[
    (NFPROTO_IPV4, "filter", "DOCKER"),
    (NFPROTO_IPV4, "filter", "DOCKER-USER"),
    (NFPROTO_IPV4, "nat", "DOCKER"),
];

const NFPROTO_UNSPEC: u8 = 0;
const NFPROTO_IPV4: u8 = 2;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_GETCHAIN: u16 = 4;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLA_TYPE_MASK: u16 = 0x3fff;
/// Bytes of answers read at most: a ruleset of a few thousand chains is well under 1 MiB.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// One datagram of a dump is at most a page or two; 64 KiB leaves room for any page size.
const RECV_BUFFER: usize = 64 * 1024;

/// One chain of the ruleset: its nft family (2 for `ip`), table and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub family: u8,
    pub table: String,
    pub name: String,
}

/// Sets the chains fact to a skip or an unknown reason, and derives the other from it.
pub fn set_all(facts: &mut Facts, fact: &Fact) {
    facts.set("netfilter.docker_chains_missing", fact.clone());
    derive(facts);
}

/// `netfilter.docker_chains_gone` from `netfilter.docker_chains_missing` (its reason when that
/// is not known); nothing before the chains are read.
pub fn derive(facts: &mut Facts) {
    if !facts.facts.contains_key("netfilter.docker_chains_missing") {
        return;
    }
    let gone = match facts.get("netfilter.docker_chains_missing") {
        Fact::Known {
            value: Value::List(missing),
        } => Fact::known(!missing.is_empty()),
        Fact::Known { .. } => Fact::unknown("netfilter.docker_chains_missing is not a list"),
        other => other,
    };
    facts.set("netfilter.docker_chains_gone", gone);
}

/// Reads the ruleset when the facts gathered so far say it can matter; otherwise both facts
/// are skipped or unknown with the reason. Runs after the Docker probe and the file facts.
pub fn gather(ctx: &Context, facts: &mut Facts) {
    if let Some(reason) = not_read(facts) {
        return set_all(facts, &reason);
    }
    if !nix::unistd::geteuid().is_root() {
        return set_all(
            facts,
            &Fact::unknown(
                "reading the nftables ruleset needs root (CAP_NET_ADMIN): run dockdoc with sudo to judge Docker's chains",
            ),
        );
    }
    match read_chains(ctx.timeout) {
        Ok(chains) => {
            let missing = missing_docker_chains(&chains);
            facts.set("netfilter.docker_chains_missing", Fact::known(missing));
            derive(facts);
        }
        Err(e) => set_all(
            facts,
            &Fact::unknown(format!("reading the nftables ruleset: {e}")),
        ),
    }
}

/// Why the ruleset is not read, from the facts already gathered; `None` when it is.
fn not_read(facts: &Facts) -> Option<Fact> {
    if facts.bool("docker.reachable") != Some(true) {
        return Some(Fact::skipped(
            "the Docker daemon did not answer, and its chains are judged only while it runs",
        ));
    }
    if facts.bool("os.in_container") == Some(true) {
        return Some(Fact::skipped(
            "dockdoc runs inside a container, whose network namespace is not the daemon's host's",
        ));
    }
    match facts.text("docker.endpoint_kind") {
        Some("system" | "other") => {}
        Some(kind) => {
            return Some(Fact::skipped(format!(
                "the daemon is a {kind} one, whose rules are not in this network namespace's ruleset"
            )));
        }
        None => return Some(Fact::unknown("docker.endpoint_kind is unknown")),
    }
    match facts.get("docker.iptables_enabled") {
        Fact::Known {
            value: Value::Bool(false),
        } => return Some(Fact::skipped("dockerd runs with iptables off")),
        Fact::Known { .. } => {}
        other => return Some(other),
    }
    match facts.text("kernel.iptables_backend") {
        Some("nft") => None,
        Some("legacy") => Some(Fact::unknown(
            "iptables uses the legacy backend, whose chains live in x_tables (ip_tables), not in the nftables ruleset dockdoc reads",
        )),
        _ => Some(Fact::unknown(
            "the iptables backend is unknown, so where Docker's chains live is too",
        )),
    }
}

/// The chains of [`DOCKER_CHAINS`] that are not among `chains`, as `ip filter DOCKER`.
pub fn missing_docker_chains(chains: &[Chain]) -> Vec<String> {
    DOCKER_CHAINS
        .iter()
        .filter(|(family, table, name)| {
            !chains
                .iter()
                .any(|c| c.family == *family && c.table == *table && c.name == *name)
        })
        .map(|(_, table, name)| format!("ip {table} {name}"))
        .collect()
}

/// Every chain of every table and family, from one `NFT_MSG_GETCHAIN` dump. Each receive waits
/// at most `timeout`; at most [`MAX_ANSWER_BYTES`] are read.
pub fn read_chains(timeout: Duration) -> Result<Vec<Chain>, String> {
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC,
        Some(netlink::NETFILTER),
    )
    .map_err(|e| format!("netlink socket: {e}"))?;
    // A zero timeout would mean "wait forever" to the kernel.
    let wait = timeout.max(Duration::from_millis(1));
    set_socket_timeout(&fd, Timeout::Recv, Some(wait)).map_err(|e| format!("SO_RCVTIMEO: {e}"))?;
    let seq: u32 = 1;
    sendto(
        &fd,
        &dump_request(seq),
        SendFlags::empty(),
        &SocketAddrNetlink::new(0, 0),
    )
    .map_err(|e| format!("sending the request: {e}"))?;
    let mut chains = Vec::new();
    let mut buf = vec![0u8; RECV_BUFFER];
    let mut total = 0usize;
    loop {
        let n = match recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok((_, n)) if n > buf.len() => {
                return Err(format!("a datagram of {n} bytes did not fit {RECV_BUFFER}"));
            }
            Ok((_, n)) => n,
            Err(Errno::AGAIN) => {
                return Err(format!(
                    "the kernel did not finish answering within {}",
                    humantime::format_duration(timeout)
                ));
            }
            Err(e) => return Err(format!("receiving: {e}")),
        };
        total += n;
        if total > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer was larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        if n == 0 {
            return Err("the socket closed before the end of the dump".to_owned());
        }
        if parse_datagram(buf.get(..n).unwrap_or_default(), seq, &mut chains)? {
            return Ok(chains);
        }
    }
}

/// The dump request: a netlink header, then nfgenmsg for every family (`NFPROTO_UNSPEC`).
pub fn dump_request(seq: u32) -> Vec<u8> {
    let mut msg = Vec::with_capacity(20);
    msg.extend_from_slice(&20u32.to_ne_bytes());
    msg.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN).to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    // nfgenmsg: family, version (NFNETLINK_V0), resource id (big endian).
    msg.extend_from_slice(&[NFPROTO_UNSPEC, 0, 0, 0]);
    msg
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Netlink's 4-byte alignment.
fn align(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// Parses one datagram of the dump into `chains`; `Ok(true)` at `NLMSG_DONE`. An error message
/// from the kernel becomes its errno's text (EPERM without CAP_NET_ADMIN).
pub fn parse_datagram(b: &[u8], seq: u32, chains: &mut Vec<Chain>) -> Result<bool, String> {
    let mut at = 0;
    while at + 16 <= b.len() {
        let len = u32_at(b, at).unwrap_or(0) as usize;
        let kind = u16_at(b, at + 4).unwrap_or(0);
        let msg_seq = u32_at(b, at + 8).unwrap_or(0);
        if len < 16 || at + len > b.len() {
            return Err(format!(
                "a netlink message of {len} bytes does not fit its datagram"
            ));
        }
        let msg = b.get(at..at + len).unwrap_or_default();
        at += align(len);
        if msg_seq != seq {
            continue;
        }
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = msg
                    .get(16..20)
                    .and_then(|c| c.try_into().ok())
                    .map(i32::from_ne_bytes)
                    .unwrap_or(0);
                if code == 0 {
                    continue;
                }
                return Err(format!(
                    "the kernel answered {}",
                    std::io::Error::from_raw_os_error(-code)
                ));
            }
            k if k == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN => {
                if let Some(chain) = parse_chain(msg) {
                    chains.push(chain);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

/// A chain from one `NFT_MSG_NEWCHAIN` message: nfgenmsg's family, then the table and name
/// attributes (NUL-terminated strings).
fn parse_chain(msg: &[u8]) -> Option<Chain> {
    let family = *msg.get(16)?;
    let mut at = 20;
    let (mut table, mut name) = (None, None);
    while at + 4 <= msg.len() {
        let len = usize::from(u16_at(msg, at)?);
        let kind = u16_at(msg, at + 2)? & NLA_TYPE_MASK;
        if len < 4 {
            return None;
        }
        let payload = msg.get(at + 4..at + len)?;
        let text = || {
            let end = payload
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(payload.len());
            String::from_utf8_lossy(payload.get(..end).unwrap_or_default()).into_owned()
        };
        match kind {
            NFTA_CHAIN_TABLE => table = Some(text()),
            NFTA_CHAIN_NAME => name = Some(text()),
            _ => {}
        }
        at += align(len);
    }
    Some(Chain {
        family,
        table: table?,
        name: name?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, text: &str) -> Vec<u8> {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0);
        let len = 4 + payload.len();
        let mut a = Vec::new();
        a.extend_from_slice(&u16::try_from(len).unwrap().to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(&payload);
        a.resize(align(len), 0);
        a
    }

    fn message(kind: u16, seq: u32, family: u8, body: &[u8]) -> Vec<u8> {
        let len = 20 + body.len();
        let mut m = Vec::new();
        m.extend_from_slice(&u32::try_from(len).unwrap().to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[family, 0, 0, 0]);
        m.extend_from_slice(body);
        m
    }

    fn chain(family: u8, table: &str, name: &str) -> Vec<u8> {
        let mut body = attr(NFTA_CHAIN_TABLE, table);
        body.extend(attr(2, "\u{1}"));
        body.extend(attr(NFTA_CHAIN_NAME, name));
        message(
            (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN,
            1,
            family,
            &body,
        )
    }

    #[test]
    fn a_dump_gives_its_chains_and_ends_at_done() {
        let mut d = chain(2, "filter", "DOCKER");
        d.extend(chain(2, "nat", "DOCKER"));
        d.extend(chain(10, "filter", "DOCKER-USER"));
        let mut chains = Vec::new();
        assert_eq!(parse_datagram(&d, 1, &mut chains), Ok(false));
        assert_eq!(chains.len(), 3);
        assert_eq!(missing_docker_chains(&chains), ["ip filter DOCKER-USER"]);
        let done = message(NLMSG_DONE, 1, 0, &[0; 4]);
        assert_eq!(parse_datagram(&done, 1, &mut chains), Ok(true));
        assert_eq!(missing_docker_chains(&[]).len(), 3);
    }

    #[test]
    fn an_error_answer_and_garbage_are_reasons() {
        // nlmsgerr: the header, then the (negative) errno and the request's header.
        let mut eperm = Vec::new();
        eperm.extend_from_slice(&36u32.to_ne_bytes());
        eperm.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        eperm.extend_from_slice(&0u16.to_ne_bytes());
        eperm.extend_from_slice(&1u32.to_ne_bytes());
        eperm.extend_from_slice(&0u32.to_ne_bytes());
        eperm.extend_from_slice(&(-1i32).to_ne_bytes());
        eperm.extend_from_slice(&dump_request(1)[..16]);
        let mut chains = Vec::new();
        let e = parse_datagram(&eperm, 1, &mut chains).unwrap_err();
        assert!(e.contains("not permitted"), "{e}");
        let mut short = chain(2, "filter", "DOCKER");
        short.truncate(30);
        assert!(parse_datagram(&short, 1, &mut chains).is_err());
        assert_eq!(dump_request(7).len(), 20);
    }
}
