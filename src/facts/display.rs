//! The display docker-osx draws on: DISPLAY, the X socket, and the X server's access list
//! (asked of the server itself over the X protocol), Wayland without XWayland.
//!
//! docker-osx runs QEMU's GTK window inside the container and draws it on the host's X server
//! through the bind-mounted `/tmp/.X11-unix`. Its QEMU runs as the image's `arch` user, uid
//! 1000, and reaches the server as a local client with that uid (the server reads the peer's
//! credentials from the unix socket).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::error::ProbeError;

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("display.display", Text, "DISPLAY; null if unset"),
    spec(
        "display.wayland",
        Bool,
        "a Wayland session (WAYLAND_DISPLAY set or XDG_SESSION_TYPE=wayland)",
    ),
    spec(
        "display.x11_socket",
        Text,
        "the X socket DISPLAY names (/tmp/.X11-unix/X<n>); null for a remote or unset DISPLAY",
    ),
    spec(
        "display.x11_socket_exists",
        Bool,
        "that X socket exists and is a socket; null when DISPLAY names no local socket",
    ),
    spec(
        "display.xhost_installed",
        Bool,
        "the xhost program is installed (/usr/bin/xhost)",
    ),
    spec(
        "display.container_user",
        Text,
        "the host account with uid 1000, the uid docker-osx's QEMU runs as (/etc/passwd); null if none",
    ),
    spec(
        "display.x_access_control",
        Bool,
        "the X server's access control is enabled (false: `xhost +` is on)",
    ),
    spec(
        "display.x_access_list",
        List,
        "the X server's access list as xhost prints it (LOCAL:, SI:localuser:NAME, …)",
    ),
    spec(
        "display.container_access",
        Bool,
        "a local container process can connect: access control off, or LOCAL: or SI:localuser:<container user> listed",
    ),
];

/// The keys [`gather`] sets by asking the X server; the others come from the environment and
/// files ([`gather_files`]) or are derived ([`derive`]).
pub const LIVE_SCHEMA: &[FactSpec] = SCHEMA.split_at(6).1.split_at(2).0;

/// The uid docker-osx's QEMU runs as: the image's `arch` user.
pub const CONTAINER_UID: u32 = 1000;

/// Where DISPLAY points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisplayTarget {
    /// A server on this machine, reached through a unix socket.
    Local { number: u32, socket: String },
    /// A server reached over TCP (`host:0`, `localhost:10.0` from ssh -X).
    Remote { host: String, number: u32 },
}

/// Parses a DISPLAY value the way libxcb does: `[protocol/][host]:number[.screen]`. An empty
/// host or `unix` means the local socket `/tmp/.X11-unix/X<number>`; a host that is a path
/// (`/tmp/launch-x/org.x:0`) names the socket itself; any other host is reached over TCP.
pub fn parse_display(display: &str) -> Result<DisplayTarget, String> {
    let bad = || format!("DISPLAY `{display}` is not of the form [host]:number[.screen]");
    let (host, rest) = display.rsplit_once(':').ok_or_else(bad)?;
    let number_text = rest.split_once('.').map_or(rest, |(n, _screen)| n);
    if let Some((_, screen)) = rest.split_once('.')
        && (screen.is_empty() || !screen.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    if number_text.is_empty() || !number_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let number: u32 = number_text.parse().map_err(|_| bad())?;
    if host.starts_with('/') {
        return Ok(DisplayTarget::Local {
            number,
            socket: host.to_owned(),
        });
    }
    // `host::0` is DECnet, which no current server speaks.
    if host.ends_with(':') {
        return Err(bad());
    }
    let (protocol, host) = match host.split_once('/') {
        Some((p, h)) => (Some(p), h),
        None => (None, host),
    };
    let local = match protocol {
        Some("unix") => true,
        Some("tcp" | "inet" | "inet6") => false,
        Some(_) => return Err(bad()),
        None => host.is_empty() || host == "unix",
    };
    if local {
        Ok(DisplayTarget::Local {
            number,
            socket: format!("/tmp/.X11-unix/X{number}"),
        })
    } else {
        Ok(DisplayTarget::Remote {
            host: host.to_owned(),
            number,
        })
    }
}

/// DISPLAY, Wayland, the X socket, xhost and the container user: environment and files only.
pub fn gather_files(ctx: &Context, facts: &mut Facts) {
    let display = ctx.env.get("DISPLAY");
    facts.set("display.display", Fact::known(display.map(str::to_owned)));
    let wayland = ctx.env.get("WAYLAND_DISPLAY").is_some()
        || ctx.env.get("XDG_SESSION_TYPE") == Some("wayland");
    facts.set("display.wayland", Fact::known(wayland));

    let (socket, exists) = match display.map(parse_display) {
        None | Some(Ok(DisplayTarget::Remote { .. })) => {
            (Fact::known(Value::Null), Fact::known(Value::Null))
        }
        Some(Err(why)) => (Fact::unknown(why.clone()), Fact::unknown(why)),
        Some(Ok(DisplayTarget::Local { socket, .. })) => {
            let exists = socket_exists(ctx, &socket);
            (Fact::known(socket), exists)
        }
    };
    facts.set("display.x11_socket", socket);
    facts.set("display.x11_socket_exists", exists);

    facts.set(
        "display.xhost_installed",
        match ctx.sysroot.metadata_optional("/usr/bin/xhost") {
            Ok(m) => Fact::known(m.is_some_and(|m| m.is_file())),
            Err(e) => Fact::unknown(e.to_string()),
        },
    );

    facts.set(
        "display.container_user",
        match ctx.sysroot.read_string("/etc/passwd") {
            Ok(text) => Fact::known(user_with_uid(&text, CONTAINER_UID)),
            Err(e) => Fact::unknown(e.to_string()),
        },
    );
}

fn socket_exists(ctx: &Context, socket: &str) -> Fact {
    use std::os::unix::fs::FileTypeExt;
    match ctx.sysroot.metadata_optional(socket) {
        Ok(m) => Fact::known(m.is_some_and(|m| m.file_type().is_socket())),
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// The name of the first `/etc/passwd` entry with this uid.
pub fn user_with_uid(passwd: &str, uid: u32) -> Option<String> {
    let want = uid.to_string();
    passwd
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let _password = fields.next()?;
            (fields.next()? == want && !name.is_empty()).then(|| name.to_owned())
        })
}

/// Asks the X server DISPLAY names for its access list (the X protocol's ListHosts request,
/// what `xhost` prints). Only on the live system: under `--root` the keys are skipped.
pub async fn gather(ctx: &Context) -> Facts {
    let mut facts = Facts::default();
    if !ctx.endpoints.use_defaults {
        facts.set_all(
            LIVE_SCHEMA,
            &Fact::skipped(
                "the X server is not contacted when reading another root (--root); run dockdoc without --root in the graphical session to ask it",
            ),
        );
        return facts;
    }
    let Some(display) = ctx.env.get("DISPLAY") else {
        facts.set_all(LIVE_SCHEMA, &Fact::unknown("DISPLAY is not set"));
        return facts;
    };
    let (number, socket) = match parse_display(display) {
        Ok(DisplayTarget::Local { number, socket }) => (number, socket),
        Ok(DisplayTarget::Remote { host, .. }) => {
            facts.set_all(
                LIVE_SCHEMA,
                &Fact::unknown(format!(
                    "DISPLAY {display} names an X server on {host} over TCP, which dockdoc does not ask; docker-osx needs a local X socket"
                )),
            );
            return facts;
        }
        Err(why) => {
            facts.set_all(LIVE_SCHEMA, &Fact::unknown(why));
            return facts;
        }
    };
    let cookie = find_cookie_for(ctx, number);
    let path = match ctx.sysroot.host_path(&socket) {
        Ok(p) => p,
        Err(e) => {
            facts.set_all(LIVE_SCHEMA, &Fact::unknown(e.to_string()));
            return facts;
        }
    };
    let outcome = tokio::time::timeout(ctx.timeout, list_hosts(&path, cookie.cookie())).await;
    match outcome {
        Ok(Ok(access)) => {
            facts.set("display.x_access_control", Fact::known(access.enabled));
            facts.set("display.x_access_list", Fact::known(access.hosts));
        }
        Ok(Err(XError::Refused(reason))) => {
            let why = format!(
                "the X server at {socket} refused dockdoc's connection: {reason} ({})",
                cookie.describe(number)
            );
            facts.set_all(LIVE_SCHEMA, &Fact::unknown(why));
        }
        Ok(Err(XError::Other(e))) => {
            facts.set_all(
                LIVE_SCHEMA,
                &Fact::unknown(format!("the X server at {socket}: {e}")),
            );
        }
        Err(_) => {
            facts.set_all(
                LIVE_SCHEMA,
                &Fact::unknown(format!(
                    "the X server at {socket} did not answer within {}",
                    humantime::format_duration(ctx.timeout)
                )),
            );
        }
    }
    facts
}

/// The container-access verdict from the access list.
///
/// A container that bind-mounts `/tmp/.X11-unix` connects through the unix socket, so the X
/// server sees a local client whose uid is the container process's uid: 1000 for docker-osx's
/// `arch` user (with rootful Docker, which does not remap uids). The server admits it when
/// access control is off, when `LOCAL:` (every non-network local client) is listed, or when
/// `SI:localuser:NAME` is listed and NAME is the host account with uid 1000, because the server
/// resolves the peer uid through the host's passwd database. A server started without `-auth`
/// (a bare Xvfb) also admits local clients without listing them until `xhost -local:`; that
/// case is reported as no access, because the list is all the server tells. Display managers
/// and startx start the server with `-auth`. `SI:localgroup:` entries are not evaluated, and a
/// rootless daemon, which maps the container's uid 1000 to a subordinate uid, is not modelled.
pub fn derive(facts: &mut Facts) {
    let verdict = container_access(
        &facts.get("display.x_access_control"),
        &facts.get("display.x_access_list"),
        &facts.get("display.container_user"),
    );
    facts.set("display.container_access", verdict);
}

fn container_access(control: &Fact, list: &Fact, user: &Fact) -> Fact {
    match control {
        Fact::Known {
            value: Value::Bool(false),
        } => return Fact::known(true),
        Fact::Known {
            value: Value::Bool(true),
        } => {}
        Fact::Known { value } => {
            return Fact::unknown(format!(
                "display.x_access_control has the unexpected value `{value}`"
            ));
        }
        other => return other.clone(),
    }
    let hosts = match list {
        Fact::Known {
            value: Value::List(hosts),
        } => hosts,
        Fact::Known { value } => {
            return Fact::unknown(format!(
                "display.x_access_list has the unexpected value `{value}`"
            ));
        }
        other => return other.clone(),
    };
    if hosts.iter().any(|h| h == "LOCAL:") {
        return Fact::known(true);
    }
    match user {
        Fact::Known {
            value: Value::Text(name),
        } => {
            let entry = format!("SI:localuser:{name}");
            Fact::known(hosts.contains(&entry))
        }
        // No host account has the container's uid, so no SI:localuser entry can match it.
        Fact::Known { .. } => Fact::known(false),
        Fact::Unknown { reason } => Fact::unknown(format!("display.container_user: {reason}")),
        Fact::Skipped { reason } => Fact::skipped(reason.clone()),
    }
}

// ---- The X protocol: connection setup and ListHosts -------------------------------------

/// What the server said about its access control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub enabled: bool,
    pub hosts: Vec<String>,
}

#[derive(Debug)]
pub enum XError {
    /// The server refused the connection and said why.
    Refused(String),
    Other(String),
}

impl std::fmt::Display for XError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XError::Refused(r) => write!(f, "refused: {r}"),
            XError::Other(e) => f.write_str(e),
        }
    }
}

const MIT_MAGIC_COOKIE: &[u8] = b"MIT-MAGIC-COOKIE-1";
const LIST_HOSTS: u8 = 110;
/// Replies larger than this are refused: an access list is a few dozen bytes.
const MAX_REPLY_BYTES: usize = 1 << 20;

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// The connection setup request (little-endian, protocol 11.0) with an optional
/// MIT-MAGIC-COOKIE-1.
pub fn setup_request(cookie: Option<&[u8]>) -> Vec<u8> {
    let (name, data): (&[u8], &[u8]) = match cookie {
        Some(c) => (MIT_MAGIC_COOKIE, c),
        None => (b"", b""),
    };
    let mut req = vec![b'l', 0, 11, 0, 0, 0];
    req.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
    req.extend_from_slice(&u16::try_from(data.len()).unwrap_or(0).to_le_bytes());
    req.extend_from_slice(&[0, 0]);
    req.extend_from_slice(name);
    req.extend(std::iter::repeat_n(0, pad4(name.len())));
    req.extend_from_slice(data);
    req.extend(std::iter::repeat_n(0, pad4(data.len())));
    req
}

/// Connects to the X server at `path`, then asks for its host list.
pub async fn list_hosts(path: &Path, cookie: Option<&[u8]>) -> Result<Access, XError> {
    let io = |what: &str, e: std::io::Error| XError::Other(format!("{what}: {e}"));
    let mut stream = UnixStream::connect(path)
        .await
        .map_err(|e| io("cannot connect", e))?;
    stream
        .write_all(&setup_request(cookie))
        .await
        .map_err(|e| io("sending the connection setup", e))?;
    let mut head = [0u8; 8];
    stream
        .read_exact(&mut head)
        .await
        .map_err(|e| io("reading the connection setup reply", e))?;
    let [.., len_lo, len_hi] = head;
    let extra = usize::from(u16::from_le_bytes([len_lo, len_hi])) * 4;
    let mut body = vec![0u8; extra];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| io("reading the connection setup reply", e))?;
    let [status, reason_len, ..] = head;
    match status {
        1 => {}
        0 => {
            let len = usize::from(reason_len).min(body.len());
            return Err(XError::Refused(reason_text(
                body.get(..len).unwrap_or_default(),
            )));
        }
        2 => return Err(XError::Refused(reason_text(&body))),
        other => {
            return Err(XError::Other(format!(
                "the connection setup reply has the unknown status {other}"
            )));
        }
    }
    stream
        .write_all(&[LIST_HOSTS, 0, 1, 0])
        .await
        .map_err(|e| io("sending ListHosts", e))?;
    loop {
        let mut reply = [0u8; 32];
        stream
            .read_exact(&mut reply)
            .await
            .map_err(|e| io("reading the ListHosts reply", e))?;
        match reply[0] {
            0 => {
                return Err(XError::Other(format!(
                    "the server answered ListHosts with X error {}",
                    reply[1]
                )));
            }
            1 => {
                let len = u32::from_le_bytes([reply[4], reply[5], reply[6], reply[7]]);
                let len = usize::try_from(len).unwrap_or(usize::MAX).saturating_mul(4);
                if len > MAX_REPLY_BYTES {
                    return Err(XError::Other(format!(
                        "the ListHosts reply claims {len} bytes, refusing to read it"
                    )));
                }
                let count = usize::from(u16::from_le_bytes([reply[8], reply[9]]));
                let mut data = vec![0u8; len];
                stream
                    .read_exact(&mut data)
                    .await
                    .map_err(|e| io("reading the ListHosts reply", e))?;
                return Ok(Access {
                    enabled: reply[1] == 1,
                    hosts: parse_hosts(&data, count)?,
                });
            }
            // An event; nothing was selected, but skip it rather than misread it.
            _ => continue,
        }
    }
}

fn reason_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\0').trim();
    if text.is_empty() {
        "no reason given".to_owned()
    } else {
        text.to_owned()
    }
}

/// Parses the HOST entries of a ListHosts reply into xhost's notation.
pub fn parse_hosts(data: &[u8], count: usize) -> Result<Vec<String>, XError> {
    let short = || XError::Other("the ListHosts reply is shorter than its host count".into());
    let mut hosts = Vec::with_capacity(count.min(1024));
    let mut at = 0;
    for _ in 0..count {
        let Some(&[family, _, len_lo, len_hi]) = data.get(at..at + 4) else {
            return Err(short());
        };
        let len = usize::from(u16::from_le_bytes([len_lo, len_hi]));
        let addr = data.get(at + 4..at + 4 + len).ok_or_else(short)?;
        hosts.push(format_host(family, addr));
        at += 4 + len + pad4(len);
    }
    Ok(hosts)
}

/// One host entry as xhost prints it (numeric addresses instead of resolved names).
pub fn format_host(family: u8, addr: &[u8]) -> String {
    match (family, addr) {
        (0, &[a, b, c, d]) => format!("INET:{}", std::net::Ipv4Addr::new(a, b, c, d)),
        (6, addr) if <[u8; 16]>::try_from(addr).is_ok() => {
            let octets = <[u8; 16]>::try_from(addr).unwrap_or_default();
            format!("INET6:{}", std::net::Ipv6Addr::from(octets))
        }
        (5, _) => {
            let text = String::from_utf8_lossy(addr);
            match text.split_once('\0') {
                Some((kind, value)) => format!("SI:{kind}:{value}"),
                None => format!("SI:{text}"),
            }
        }
        (252, _) => "LOCAL:".to_owned(),
        _ => format!("<unknown address in family {family}>"),
    }
}

// ---- Xauthority -------------------------------------------------------------------------

/// Which cookie dockdoc offers the server, and where it looked.
struct CookieLookup {
    file: Option<PathBuf>,
    cookie: Option<Vec<u8>>,
    problem: Option<String>,
}

impl CookieLookup {
    fn cookie(&self) -> Option<&[u8]> {
        self.cookie.as_deref()
    }

    fn describe(&self, number: u32) -> String {
        match (&self.file, &self.cookie, &self.problem) {
            (_, _, Some(p)) => p.clone(),
            (Some(f), Some(_), _) => format!(
                "dockdoc offered the MIT-MAGIC-COOKIE-1 for display :{number} from {}",
                f.display()
            ),
            (Some(f), None, _) => format!(
                "{} has no MIT-MAGIC-COOKIE-1 for display :{number}",
                f.display()
            ),
            (None, _, _) => "neither XAUTHORITY nor HOME is set".to_owned(),
        }
    }
}

fn find_cookie_for(ctx: &Context, number: u32) -> CookieLookup {
    let file = ctx.env.get("XAUTHORITY").map(PathBuf::from).or_else(|| {
        ctx.env
            .get("HOME")
            .map(|h| Path::new(h).join(".Xauthority"))
    });
    let Some(file) = file else {
        return CookieLookup {
            file: None,
            cookie: None,
            problem: None,
        };
    };
    let hostname = ctx
        .sysroot
        .read_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    match ctx.sysroot.read_bytes(&file.to_string_lossy()) {
        Ok(data) => CookieLookup {
            cookie: find_cookie(&data, &hostname, number),
            file: Some(file),
            problem: None,
        },
        Err(ProbeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            CookieLookup {
                problem: Some(format!("{} does not exist", file.display())),
                file: Some(file),
                cookie: None,
            }
        }
        Err(e) => CookieLookup {
            problem: Some(e.to_string()),
            file: Some(file),
            cookie: None,
        },
    }
}

/// The MIT-MAGIC-COOKIE-1 an Xauthority file holds for a local display, matched as libXau
/// does: family Local (256) with this host's name, or family Wild (65535); the display
/// number equal, or empty for any display.
pub fn find_cookie(data: &[u8], hostname: &str, number: u32) -> Option<Vec<u8>> {
    let number = number.to_string();
    let mut at = 0;
    let field = |at: &mut usize| -> Option<&[u8]> {
        let len = usize::from(u16::from_be_bytes([*data.get(*at)?, *data.get(*at + 1)?]));
        let value = data.get(*at + 2..*at + 2 + len)?;
        *at += 2 + len;
        Some(value)
    };
    while at < data.len() {
        let family = u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]);
        at += 2;
        let address = field(&mut at)?;
        let num = field(&mut at)?;
        let name = field(&mut at)?;
        let cookie = field(&mut at)?;
        let host_matches = family == 65535 || (family == 256 && address == hostname.as_bytes());
        let number_matches = num.is_empty() || num == number.as_bytes();
        if host_matches && number_matches && name == MIT_MAGIC_COOKIE {
            return Some(cookie.to_vec());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_schema_is_the_access_keys() {
        let keys: Vec<_> = LIVE_SCHEMA.iter().map(|s| s.key).collect();
        assert_eq!(keys, ["display.x_access_control", "display.x_access_list"]);
    }

    #[test]
    fn parses_display_names() {
        let local = |n: u32| DisplayTarget::Local {
            number: n,
            socket: format!("/tmp/.X11-unix/X{n}"),
        };
        assert_eq!(parse_display(":0"), Ok(local(0)));
        assert_eq!(parse_display(":0.0"), Ok(local(0)));
        assert_eq!(parse_display("unix:0"), Ok(local(0)));
        assert_eq!(parse_display("unix/:2"), Ok(local(2)));
        assert_eq!(parse_display(":1"), Ok(local(1)));
        assert_eq!(parse_display(":12.3"), Ok(local(12)));
        assert_eq!(
            parse_display("host:0"),
            Ok(DisplayTarget::Remote {
                host: "host".into(),
                number: 0
            })
        );
        assert_eq!(
            parse_display("localhost:10.0"),
            Ok(DisplayTarget::Remote {
                host: "localhost".into(),
                number: 10
            })
        );
        assert_eq!(
            parse_display("/private/tmp/com.apple.launchd.x/org.xquartz:0"),
            Ok(DisplayTarget::Local {
                number: 0,
                socket: "/private/tmp/com.apple.launchd.x/org.xquartz".into()
            })
        );
        for bad in [
            "0",
            ":",
            ":x",
            ":0.",
            ":0.a",
            "host::0",
            "ftp/:0",
            "wayland-0",
        ] {
            let err = parse_display(bad).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
    }

    #[test]
    fn finds_the_container_user() {
        let passwd = "root:x:0:0::/root:/bin/bash\n#bob:x:1000:1000::/:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/zsh\n";
        assert_eq!(user_with_uid(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(user_with_uid(passwd, 1001), None);
        assert_eq!(user_with_uid("garbage\n", 1000), None);
    }

    #[test]
    fn setup_request_is_padded() {
        assert_eq!(
            setup_request(None),
            [b'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let req = setup_request(Some(&[0xAA; 16]));
        assert_eq!(&req[6..10], &[18, 0, 16, 0]);
        assert_eq!(&req[12..30], MIT_MAGIC_COOKIE);
        assert_eq!(&req[30..32], &[0, 0]);
        assert_eq!(&req[32..48], &[0xAA; 16]);
        assert_eq!(req.len(), 48);
    }

    #[test]
    fn parses_host_entries() {
        let mut data = Vec::new();
        // LocalHost, empty address.
        data.extend_from_slice(&[252, 0, 0, 0]);
        // ServerInterpreted "localuser\0alice" (15 bytes, padded to 16).
        data.extend_from_slice(&[5, 0, 15, 0]);
        data.extend_from_slice(b"localuser\0alice\0");
        // Internet 192.168.1.7.
        data.extend_from_slice(&[0, 0, 4, 0, 192, 168, 1, 7]);
        // InternetV6 ::1.
        data.extend_from_slice(&[6, 0, 16, 0]);
        data.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        assert_eq!(
            parse_hosts(&data, 4).unwrap(),
            [
                "LOCAL:",
                "SI:localuser:alice",
                "INET:192.168.1.7",
                "INET6:::1"
            ]
        );
        assert!(parse_hosts(&data[..10], 2).is_err());
        assert_eq!(format_host(2, &[1]), "<unknown address in family 2>");
    }

    fn xauth_entry(family: u16, addr: &str, number: &str, name: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = family.to_be_bytes().to_vec();
        for f in [addr.as_bytes(), number.as_bytes(), name, data] {
            out.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn finds_the_cookie_like_libxau() {
        let mut file = xauth_entry(256, "archbox", "1", MIT_MAGIC_COOKIE, &[1; 16]);
        file.extend(xauth_entry(
            256,
            "otherhost",
            "0",
            MIT_MAGIC_COOKIE,
            &[2; 16],
        ));
        file.extend(xauth_entry(
            256,
            "archbox",
            "0",
            b"XDM-AUTHORIZATION-1",
            &[3; 16],
        ));
        file.extend(xauth_entry(256, "archbox", "0", MIT_MAGIC_COOKIE, &[4; 16]));
        assert_eq!(find_cookie(&file, "archbox", 0), Some(vec![4; 16]));
        assert_eq!(find_cookie(&file, "archbox", 1), Some(vec![1; 16]));
        assert_eq!(find_cookie(&file, "archbox", 2), None);
        let wild = xauth_entry(65535, "", "", MIT_MAGIC_COOKIE, &[5; 16]);
        assert_eq!(find_cookie(&wild, "any", 7), Some(vec![5; 16]));
        // A truncated file yields what was found before the damage, here nothing.
        assert_eq!(find_cookie(&file[..20], "archbox", 0), None);
    }

    fn list(items: &[&str]) -> Fact {
        Fact::known(items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn container_access_table() {
        let alice = Fact::known("alice");
        let none = Fact::known(Value::Null);
        let on = Fact::known(true);
        let cases: &[(Fact, Fact, Fact, Fact)] = &[
            (
                Fact::known(false),
                list(&[]),
                alice.clone(),
                Fact::known(true),
            ),
            (
                on.clone(),
                list(&["LOCAL:"]),
                none.clone(),
                Fact::known(true),
            ),
            (
                on.clone(),
                list(&["SI:localuser:alice"]),
                alice.clone(),
                Fact::known(true),
            ),
            (
                on.clone(),
                list(&["SI:localuser:root"]),
                alice.clone(),
                Fact::known(false),
            ),
            (
                on.clone(),
                list(&["SI:localuser:alice"]),
                none.clone(),
                Fact::known(false),
            ),
            (on.clone(), list(&[]), alice.clone(), Fact::known(false)),
            (
                on.clone(),
                list(&[]),
                Fact::unknown("/etc/passwd: gone"),
                Fact::unknown("display.container_user: /etc/passwd: gone"),
            ),
            (
                Fact::unknown("DISPLAY is not set"),
                Fact::unknown("DISPLAY is not set"),
                alice.clone(),
                Fact::unknown("DISPLAY is not set"),
            ),
            (
                Fact::skipped("under --root"),
                Fact::skipped("under --root"),
                alice.clone(),
                Fact::skipped("under --root"),
            ),
        ];
        for (control, hosts, user, want) in cases {
            assert_eq!(
                container_access(control, hosts, user),
                *want,
                "{control} / {hosts} / {user}"
            );
        }
    }
}
