//! The host ports containers publish, or ask to publish, in `docker ps`'s terms: one entry per
//! container and binding, `NAME [HOSTIP:]HOSTPORT->PORT/PROTO` (`web 80->80/tcp`).
//!
//! A running container's bindings are in the container list (`Ports[].PublicPort`). A container
//! whose start failed, e.g. on a rootless daemon with "cannot expose privileged port 80", is left
//! `created` (or `exited`) and the list shows no port for it (`"Ports": []`); what it asked for
//! is only in its inspection, `HostConfig.PortBindings` (`{"80/tcp": [{"HostIp": "",
//! "HostPort": "80"}]}`). That is what a real rootless dockerd 20.10 answered.

use bollard_stubs::models::ContainerInspectResponse;

/// A container as `GET /containers/json` lists it, with only the fields the facts read: a list
/// at the 4 MiB cap is not held as full `ContainerSummary` values (labels, mounts, network
/// settings, each a map of its own) while it is judged. Docker's field names.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSummary {
    pub id: Option<String>,
    pub names: Option<Vec<String>>,
    pub image: Option<String>,
    pub state: Option<String>,
    pub ports: Option<Vec<Port>>,
}

/// One entry of a listed container's `Ports`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Port {
    #[serde(rename = "IP")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private_port: u64,
    #[serde(rename = "PublicPort")]
    pub public_port: Option<u64>,
    #[serde(rename = "Type")]
    pub typ: Option<String>,
}

/// A container's name without the leading slash, else its short id.
pub fn summary_name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .or_else(|| c.id.as_ref().map(|id| id.chars().take(12).collect()))
        .unwrap_or_default()
}

/// Whether a listed container holds its ports now: its bindings are in the list.
pub fn holds_ports(c: &ContainerSummary) -> bool {
    matches!(c.state.as_deref(), Some("running" | "paused"))
}

/// `HOSTIP:` when the binding names an address, as `docker ps` shows it (IPv6 in brackets);
/// nothing for every address (empty, 0.0.0.0, ::).
fn address(ip: Option<&str>) -> String {
    match ip.unwrap_or_default() {
        "" | "0.0.0.0" | "::" => String::new(),
        v6 if v6.contains(':') => format!("[{v6}]:"),
        v4 => format!("{v4}:"),
    }
}

/// The host ports of a listed container (`Ports[]` with a `PublicPort`).
pub fn from_summary(c: &ContainerSummary) -> Vec<String> {
    let name = summary_name(c);
    let mut out: Vec<String> = c
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            let public = p.public_port.filter(|n| *n != 0)?;
            let proto = p.typ.clone().unwrap_or_default();
            let proto = if proto.is_empty() {
                "tcp".into()
            } else {
                proto
            };
            Some(format!(
                "{name} {}{public}->{}/{proto}",
                address(p.ip.as_deref()),
                p.private_port
            ))
        })
        .collect();
    // The same binding on 0.0.0.0 and :: is one port.
    out.sort();
    out.dedup();
    out
}

/// The host ports a container asks for (`HostConfig.PortBindings`); an empty or `0` host port
/// lets the daemon pick one, so it is left out.
pub fn from_inspect(inspect: &ContainerInspectResponse) -> Vec<String> {
    let name = inspect
        .name
        .as_deref()
        .map(|n| n.trim_start_matches('/').to_owned())
        .or_else(|| inspect.id.as_ref().map(|id| id.chars().take(12).collect()))
        .unwrap_or_default();
    let bindings = inspect
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.as_ref());
    let mut out: Vec<String> = bindings
        .into_iter()
        .flatten()
        .flat_map(|(port, list)| {
            list.iter()
                .flatten()
                .filter_map(|b| {
                    let host = b.host_port.as_deref().unwrap_or_default().trim();
                    (!host.is_empty() && host != "0")
                        .then(|| format!("{name} {}{host}->{port}", address(b.host_ip.as_deref())))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The lowest host port of an entry (a range `8000-8010` counts from its first port).
pub fn host_port(entry: &str) -> Option<u16> {
    let (_, binding) = entry.split_once(' ')?;
    let (host, _) = binding.split_once("->")?;
    let port = host.rsplit(':').next()?;
    let first = port.split('-').next()?;
    first.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The answers of a real rootless dockerd 20.10.24: `docker run -p 80:80` failed with
    /// "cannot expose privileged port 80", `-p 8080:80` runs.
    const LIST: &str = r#"[
      {"Id": "287b81ed5078", "Names": ["/web8080"], "State": "running",
       "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                 {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]},
      {"Id": "67c45256cfd9", "Names": ["/web80"], "State": "created", "Ports": []}
    ]"#;
    const INSPECT: &str = r#"{"Id": "67c45256cfd9", "Name": "/web80",
      "State": {"Status": "created", "Running": false, "ExitCode": 128},
      "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}}}"#;

    #[test]
    fn a_running_container_from_the_list_a_failed_one_from_its_inspection() {
        let list: Vec<ContainerSummary> = serde_json::from_str(LIST).unwrap();
        assert!(holds_ports(&list[0]));
        assert_eq!(from_summary(&list[0]), ["web8080 8080->80/tcp"]);
        assert!(!holds_ports(&list[1]));
        assert!(from_summary(&list[1]).is_empty());
        let inspect: ContainerInspectResponse = serde_json::from_str(INSPECT).unwrap();
        assert_eq!(from_inspect(&inspect), ["web80 80->80/tcp"]);
    }

    #[test]
    fn addresses_ranges_and_ports_the_daemon_picks() {
        let inspect: ContainerInspectResponse = serde_json::from_str(
            r#"{"Name": "/db", "HostConfig": {"PortBindings": {
              "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}],
              "443/tcp": [{"HostIp": "::1", "HostPort": "443"}],
              "80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}],
              "9000/tcp": [{"HostIp": "", "HostPort": ""}, {"HostPort": "0"}]}}}"#,
        )
        .unwrap();
        let ports = from_inspect(&inspect);
        assert_eq!(
            ports,
            [
                "db 127.0.0.1:53->53/udp",
                "db 8000-8010->80/tcp",
                "db [::1]:443->443/tcp"
            ]
        );
        let lowest: Vec<Option<u16>> = ports.iter().map(|p| host_port(p)).collect();
        assert_eq!(lowest, [Some(53), Some(8000), Some(443)]);
        assert_eq!(host_port("web80 80->80/tcp"), Some(80));
        assert_eq!(host_port("garbage"), None);
    }
}
