//! docker-osx containers as their configuration stands: what `GET /containers/{id}/json` says
//! about each container created from a docker-osx image ([`from_inspect`], asked by the live
//! probe), judged against this host's `/dev/kvm` and DISPLAY ([`derive`]).
//!
//! QEMU in a docker-osx container runs as the container's user, with the container's groups,
//! on the container's own copy of `/dev/kvm`: Docker creates that node with the host device's
//! mode, owner and group (not its ACL), so what counts is the container's `User`, its
//! `GroupAdd` and the host device's mode bits, never the host user's groups.

use bollard_stubs::models::ContainerInspectResponse;
use serde::{Deserialize, Serialize};

use super::super::display::{DisplayTarget, parse_display};
use super::super::user::reason_of;
use super::super::{Fact, Facts};

/// Image names docker-osx is published under (Docker Hub's `sickcodes/docker-osx`, any tag).
pub const OSX_IMAGE: &str = "sickcodes/docker-osx";

/// Whether an image reference names docker-osx (`docker.io/` prefix and case ignored).
pub fn is_osx_image(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    image
        .strip_prefix("docker.io/")
        .unwrap_or(&image)
        .starts_with(OSX_IMAGE)
}

/// What one docker-osx container's configuration holds, as `docker.osx_containers` carries it
/// (one JSON object per container).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsxContainer {
    /// The container's name, without the leading `/`.
    pub name: String,
    /// `Config.User`: the image's `USER` unless `--user` replaced it; empty means root.
    pub user: String,
    /// `HostConfig.GroupAdd`: `--group-add` names or gids.
    pub group_add: Vec<String>,
    /// `/dev/kvm` is in `HostConfig.Devices` (`--device /dev/kvm`), or the container is
    /// privileged and gets every host device.
    pub kvm_passed: bool,
    /// Its command runs `chown` on /dev/kvm (docker-osx's own start script does, through
    /// sudo), and nothing set on the container stops sudo or the chown: not
    /// `--security-opt no-new-privileges`, not `--cap-drop` of CHOWN, SETUID or ALL.
    pub takes_kvm: bool,
    /// Something is bind-mounted at `/tmp/.X11-unix` (WSLg's socket lives at
    /// `/mnt/wslg/.X11-unix`, so the source may differ), or the host's `/tmp` at `/tmp`.
    pub x11_mounted: bool,
    /// DISPLAY in `Config.Env`; `None` when unset.
    pub display: Option<String>,
    /// QEMU draws nowhere or on VNC (`EXTRA` holds `-display none` or `-vnc`): no X needed.
    pub headless: bool,
}

/// Reads what matters about a docker-osx container from its inspection.
pub fn from_inspect(inspect: &ContainerInspectResponse) -> OsxContainer {
    let config = inspect.config.clone().unwrap_or_default();
    let host = inspect.host_config.clone().unwrap_or_default();
    let env = config.env.unwrap_or_default();
    let var = |name: &str| {
        env.iter().find_map(|pair| {
            pair.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        })
    };
    let devices = host.devices.unwrap_or_default();
    let passed = devices.iter().any(|d| {
        d.path_on_host.as_deref() == Some("/dev/kvm")
            || d.path_in_container.as_deref() == Some("/dev/kvm")
    });
    let privileged = host.privileged.unwrap_or(false);
    let command: Vec<String> = config
        .entrypoint
        .unwrap_or_default()
        .into_iter()
        .chain(config.cmd.unwrap_or_default())
        .collect();
    let chowns = command
        .iter()
        .any(|part| part.contains("chown") && part.contains("/dev/kvm"));
    let no_new_privileges = host
        .security_opt
        .unwrap_or_default()
        .iter()
        .any(|o| o.starts_with("no-new-privileges") && !o.ends_with("=false"));
    let dropped = host.cap_drop.unwrap_or_default().iter().any(|c| {
        let c = c.to_ascii_uppercase();
        let c = c.strip_prefix("CAP_").unwrap_or(&c);
        matches!(c, "ALL" | "CHOWN" | "SETUID" | "SETGID")
    });
    let binds = host.binds.unwrap_or_default();
    let mounts = host.mounts.unwrap_or_default();
    let x11 = |source: &str, target: &str| {
        let source = source.trim_end_matches('/');
        let target = target.trim_end_matches('/');
        target == "/tmp/.X11-unix" || (target == "/tmp" && source == "/tmp")
    };
    let x11_mounted = binds.iter().any(|b| {
        let mut parts = b.split(':');
        matches!((parts.next(), parts.next()), (Some(s), Some(t)) if x11(s, t))
    }) || mounts.iter().any(|m| match (&m.source, &m.target) {
        (Some(s), Some(t)) => x11(s, t),
        _ => false,
    });
    let extra = var("EXTRA").unwrap_or_default();
    OsxContainer {
        name: inspect
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        user: config.user.unwrap_or_default(),
        group_add: host.group_add.unwrap_or_default(),
        kvm_passed: passed || privileged,
        takes_kvm: chowns && !no_new_privileges && !dropped,
        x11_mounted,
        display: var("DISPLAY").filter(|d| !d.is_empty()),
        headless: extra.contains("-display none") || extra.contains("-vnc"),
    }
}

/// The host's `/dev/kvm` as the kvm probe saw it.
struct Device {
    mode: u32,
    uid: i64,
    gid: i64,
    group: String,
}

/// Whether the container's user can read and write its copy of the host's `/dev/kvm`: root,
/// a start script that takes the device, the other bits, the owner bits for the owner's uid,
/// or the group bits for a group it is given. `User` and `GroupAdd` given by name resolve
/// in the image's /etc/passwd and /etc/group, which dockdoc does not read: a group given by
/// the host device group's name is taken to be that group.
fn kvm_usable(c: &OsxContainer, dev: &Device) -> bool {
    let rw = |bits: u32| bits & 0o6 == 0o6;
    let (user, group) = c.user.split_once(':').unwrap_or((&c.user, ""));
    if c.takes_kvm || user.is_empty() || user == "root" || user == "0" || rw(dev.mode) {
        return true;
    }
    if user.parse::<i64>().ok() == Some(dev.uid) && rw(dev.mode >> 6) {
        return true;
    }
    let gid = dev.gid.to_string();
    rw(dev.mode >> 3)
        && std::iter::once(group)
            .chain(c.group_add.iter().map(String::as_str))
            .any(|g| g == gid || g == dev.group)
}

/// The same display: the same local server number, or the same text.
fn same_display(a: &str, b: &str) -> bool {
    match (parse_display(a), parse_display(b)) {
        (
            Ok(DisplayTarget::Local { number: x, .. }),
            Ok(DisplayTarget::Local { number: y, .. }),
        ) => x == y,
        _ => a == b,
    }
}

/// What one container lacks, each with the `docker run` flag that adds it.
fn problems(c: &OsxContainer, dev: Option<&Device>, host_display: Option<&str>) -> Vec<String> {
    let name = &c.name;
    let mut out = Vec::new();
    if !c.kvm_passed {
        out.push(format!(
            "{name}: /dev/kvm is not passed in (add --device /dev/kvm)"
        ));
    } else if let Some(dev) = dev
        && !kvm_usable(c, dev)
    {
        let user = if c.user.is_empty() { "root" } else { &c.user };
        let groups = if c.group_add.is_empty() {
            "none added".to_owned()
        } else {
            c.group_add.join(",")
        };
        let flag = if dev.mode & 0o060 == 0o060 {
            format!("add --group-add {}", dev.gid)
        } else {
            format!(
                "no group may use it with mode {:04o}: run it with --user root, or give /dev/kvm mode 0660 and group kvm on the host",
                dev.mode
            )
        };
        out.push(format!(
            "{name}: its user {user} (groups: {groups}) cannot read and write /dev/kvm ({:04o}, group {} = {}) ({flag})",
            dev.mode, dev.group, dev.gid
        ));
    }
    if c.headless {
        return out;
    }
    if !c.x11_mounted {
        out.push(format!(
            "{name}: the X socket is not mounted (add -v /tmp/.X11-unix:/tmp/.X11-unix)"
        ));
    }
    let want = host_display.unwrap_or(":0");
    let flag = format!("add -e \"DISPLAY={want}\"");
    match c.display.as_deref() {
        None => out.push(format!("{name}: DISPLAY is not set ({flag})")),
        Some(d) if parse_display(d).is_err() => out.push(format!(
            "{name}: DISPLAY `{d}` is not of the form [host]:number[.screen] ({flag})"
        )),
        Some(d) => {
            if let Some(host) = host_display
                && matches!(parse_display(d), Ok(DisplayTarget::Local { .. }))
                && !same_display(d, host)
            {
                out.push(format!(
                    "{name}: DISPLAY is {d} but this session's is {host} ({flag})"
                ));
            }
        }
    }
    out
}

/// `docker.osx_container_problems` from `docker.osx_containers`, the host's `/dev/kvm`
/// (kvm facts) and DISPLAY (display facts).
pub fn derive(facts: &mut Facts) {
    let result = (|| -> Result<Vec<String>, Fact> {
        let entries = match facts.get("docker.osx_containers") {
            Fact::Known { .. } => facts.list("docker.osx_containers").unwrap_or_default(),
            other => return Err(other),
        };
        let containers = entries
            .iter()
            .map(|e| {
                serde_json::from_str::<OsxContainer>(e).map_err(|err| {
                    Fact::unknown(format!(
                        "docker.osx_containers: `{e}` is not a container record: {err}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let device = if containers.iter().any(|c| c.kvm_passed && !c.takes_kvm) {
            device(facts)?
        } else {
            None
        };
        let host_display = if containers.iter().any(|c| !c.headless) {
            if let Some(reason) = reason_of(facts, "display.display") {
                return Err(Fact::unknown(reason));
            }
            facts.text("display.display").map(str::to_owned)
        } else {
            None
        };
        Ok(containers
            .iter()
            .flat_map(|c| problems(c, device.as_ref(), host_display.as_deref()))
            .collect())
    })();
    facts.set(
        "docker.osx_container_problems",
        result.map_or_else(|f| f, Fact::known),
    );
}

/// The host's `/dev/kvm`, `None` when there is none (kvm-device-missing speaks of that).
fn device(facts: &Facts) -> Result<Option<Device>, Fact> {
    match facts.bool("kvm.device_exists") {
        Some(true) => {}
        Some(false) => return Ok(None),
        None => {
            return Err(Fact::unknown(
                reason_of(facts, "kvm.device_exists").unwrap_or_default(),
            ));
        }
    }
    for key in [
        "kvm.device_mode",
        "kvm.device_uid",
        "kvm.device_gid",
        "kvm.device_group",
    ] {
        if let Some(reason) = reason_of(facts, key) {
            return Err(Fact::unknown(reason));
        }
    }
    let missing = |key: &str| Fact::unknown(format!("{key} is not set"));
    Ok(Some(Device {
        mode: facts
            .text("kvm.device_mode")
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or_else(|| missing("kvm.device_mode"))?,
        uid: facts
            .int("kvm.device_uid")
            .ok_or_else(|| missing("kvm.device_uid"))?,
        gid: facts
            .int("kvm.device_gid")
            .ok_or_else(|| missing("kvm.device_gid"))?,
        group: facts
            .text("kvm.device_group")
            .ok_or_else(|| missing("kvm.device_group"))?
            .to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(mode: u32) -> Device {
        Device {
            mode,
            uid: 0,
            gid: 992,
            group: "kvm".into(),
        }
    }

    fn container(user: &str, group_add: &[&str]) -> OsxContainer {
        OsxContainer {
            name: "osx".into(),
            user: user.into(),
            group_add: group_add.iter().map(|g| (*g).to_owned()).collect(),
            kvm_passed: true,
            x11_mounted: true,
            display: Some(":0".into()),
            ..OsxContainer::default()
        }
    }

    #[test]
    fn the_container_user_against_the_device_mode() {
        assert!(kvm_usable(&container("", &[]), &dev(0o660)));
        assert!(kvm_usable(&container("root", &[]), &dev(0o600)));
        assert!(kvm_usable(&container("0:0", &[]), &dev(0o600)));
        assert!(!kvm_usable(&container("1000", &[]), &dev(0o660)));
        assert!(kvm_usable(&container("1000", &["992"]), &dev(0o660)));
        assert!(kvm_usable(&container("1000", &["kvm"]), &dev(0o660)));
        assert!(kvm_usable(&container("1000:992", &[]), &dev(0o660)));
        assert!(!kvm_usable(&container("1000", &["992"]), &dev(0o600)));
        assert!(kvm_usable(&container("arch", &[]), &dev(0o666)));
        let mut takes = container("arch", &[]);
        takes.takes_kvm = true;
        assert!(kvm_usable(&takes, &dev(0o600)));
    }

    #[test]
    fn problems_name_the_flag_that_fixes_them() {
        let mut c = container("1000", &[]);
        c.kvm_passed = false;
        c.x11_mounted = false;
        c.display = None;
        let p = problems(&c, Some(&dev(0o660)), Some(":1"));
        assert_eq!(
            p,
            [
                "osx: /dev/kvm is not passed in (add --device /dev/kvm)",
                "osx: the X socket is not mounted (add -v /tmp/.X11-unix:/tmp/.X11-unix)",
                "osx: DISPLAY is not set (add -e \"DISPLAY=:1\")",
            ]
        );
        let c = container("1000", &[]);
        assert_eq!(
            problems(&c, Some(&dev(0o660)), Some(":0.0")),
            [
                "osx: its user 1000 (groups: none added) cannot read and write /dev/kvm (0660, group kvm = 992) (add --group-add 992)"
            ]
        );
        let mut c = container("", &[]);
        c.display = Some(":1".into());
        assert_eq!(
            problems(&c, Some(&dev(0o660)), Some(":0")),
            ["osx: DISPLAY is :1 but this session's is :0 (add -e \"DISPLAY=:0\")"]
        );
        c.display = Some("${DISPLAY:-:0.0}".into());
        assert_eq!(problems(&c, None, Some(":0")).len(), 1);
        c.headless = true;
        c.x11_mounted = false;
        assert!(problems(&c, None, None).is_empty());
    }

    #[test]
    fn docker_osx_images_by_name() {
        assert!(is_osx_image("sickcodes/docker-osx:latest"));
        assert!(is_osx_image("docker.io/sickcodes/docker-osx:ventura"));
        assert!(is_osx_image("SickCodes/Docker-OSX"));
        assert!(!is_osx_image("busybox:local"));
    }
}
