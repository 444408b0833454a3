//! dockerd's command line as docker.service's ExecStart gives it, reduced to the
//! daemon.json keys its flags set (dockerd refuses to start when a key is set both ways), the
//! program it runs and the configuration file it names (`--config-file`).

/// Flags that take no value (`--debug`, or `--debug=false`).
const BOOL_FLAGS: &[&str] = &[
    "debug",
    "tls",
    "tlsverify",
    "live-restore",
    "experimental",
    "icc",
    "ip-forward",
    "ip-masq",
    "iptables",
    "ip6tables",
    "ipv6",
    "userland-proxy",
    "selinux-enabled",
    "no-new-privileges",
    "init",
    "rootless",
    "validate",
    "raw-logs",
    "version",
    "help",
    // Boolean flags of dockerd in moby v28.5.2 (cmd/dockerd/config*.go), as above.
    "ip-forward-no-drop",
    "allow-direct-routing",
    "cri-containerd",
    "restart",
];

/// Flag names whose daemon.json key differs.
const KEY_OF_FLAG: &[(&str, &str)] = &[
    ("host", "hosts"),
    ("dns-opt", "dns-opts"),
    ("exec-opt", "exec-opts"),
    ("insecure-registry", "insecure-registries"),
    ("registry-mirror", "registry-mirrors"),
    ("label", "labels"),
    ("log-opt", "log-opts"),
    ("storage-opt", "storage-opts"),
    ("default-address-pool", "default-address-pools"),
    ("add-runtime", "runtimes"),
    ("authorization-plugin", "authorization-plugins"),
    ("default-ulimit", "default-ulimits"),
    ("node-generic-resource", "node-generic-resources"),
    ("feature", "features"),
    ("graph", "data-root"),
];

/// Short flags and their long names.
const SHORT: &[(&str, &str)] = &[
    ("-H", "host"),
    ("-D", "debug"),
    ("-G", "group"),
    ("-s", "storage-driver"),
    ("-g", "graph"),
    ("-l", "log-level"),
    ("-b", "bridge"),
    ("-p", "pidfile"),
];

/// One flag: its daemon.json key and its value (`None` for a bare boolean flag).
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub key: String,
    pub value: Option<String>,
}

/// Splits a command line into words, honouring single and double quotes.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The argument part of an ExecStart: either a plain command line or systemd's
/// `{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// ; … }` form.
fn command_line(exec_start: &str) -> &str {
    match exec_start.split_once("argv[]=") {
        Some((_, rest)) => rest.split(" ;").next().unwrap_or(rest),
        None => exec_start,
    }
}

fn key_of(flag: &str) -> String {
    KEY_OF_FLAG
        .iter()
        .find(|(f, _)| *f == flag)
        .map_or(flag, |(_, k)| k)
        .to_owned()
}

/// The flags of dockerd's command line, as daemon.json keys.
pub fn flags(exec_start: &str) -> Vec<Flag> {
    let words = words(command_line(exec_start));
    let mut out = Vec::new();
    let mut iter = words
        .iter()
        .skip_while(|w| !w.starts_with('-'))
        .map(String::as_str)
        .peekable();
    while let Some(word) = iter.next() {
        let (name, inline) = if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (long.to_owned(), None),
            }
        } else if word.starts_with('-')
            && let Some(short) = word.get(..2)
        {
            // `get`, not `split_at`: a non-ASCII character after `-` is not a short flag.
            let rest = word.get(2..).unwrap_or_default();
            let Some((_, long)) = SHORT.iter().find(|(s, _)| *s == short) else {
                continue;
            };
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (
                (*long).to_owned(),
                (!rest.is_empty()).then(|| rest.to_owned()),
            )
        } else {
            continue;
        };
        let value = match inline {
            Some(v) => Some(v),
            None if BOOL_FLAGS.contains(&name.as_str()) => None,
            None => match iter.peek() {
                Some(next) if !next.starts_with('-') => iter.next().map(str::to_owned),
                _ => None,
            },
        };
        out.push(Flag {
            key: key_of(&name),
            value,
        });
    }
    out
}

/// The `-H`/`--host` values.
pub fn hosts(flags: &[Flag]) -> Vec<String> {
    flags
        .iter()
        .filter(|f| f.key == "hosts")
        .filter_map(|f| f.value.clone())
        .collect()
}

/// The program ExecStart runs (`/usr/bin/dockerd` on Arch), when its first word is a path.
pub fn program(exec_start: &str) -> Option<String> {
    words(command_line(exec_start))
        .into_iter()
        .next()
        // systemd's prefixes: `-` (ignore failure), `@`, `:`, `+`, `!` and `!!`.
        .map(|w| w.trim_start_matches(['-', '@', ':', '+', '!']).to_owned())
        .filter(|w| w.starts_with('/'))
}

/// The file `--config-file` names, the last one when given twice (dockerd's flag parser keeps
/// the last); `None` when dockerd reads its default, /etc/docker/daemon.json.
pub fn config_file(flags: &[Flag]) -> Option<String> {
    flags
        .iter()
        .rev()
        .find(|f| f.key == "config-file")
        .and_then(|f| f.value.clone())
}

/// A boolean flag's value as given (`--flag` or `--flag=true` is on, `--flag=false` off; the
/// last one given wins); `None` when it is not given.
fn bool_flag(flags: &[Flag], key: &str) -> Option<bool> {
    flags
        .iter()
        .rev()
        .find(|f| f.key == key)
        .map(|f| f.value.as_deref().is_none_or(|v| v != "false"))
}

/// Whether `--tlsverify` is on (off by default).
pub fn tlsverify(flags: &[Flag]) -> bool {
    bool_flag(flags, "tlsverify").unwrap_or(false)
}

/// Whether dockerd manages iptables rules: `--iptables` is on by default.
pub fn iptables(flags: &[Flag]) -> bool {
    bool_flag(flags, "iptables").unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_unit() {
        let f = flags("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock");
        assert_eq!(
            f,
            vec![
                Flag {
                    key: "hosts".into(),
                    value: Some("fd://".into())
                },
                Flag {
                    key: "containerd".into(),
                    value: Some("/run/containerd/containerd.sock".into())
                },
            ]
        );
    }

    #[test]
    fn iptables_is_on_unless_turned_off() {
        assert!(iptables(&flags("/usr/bin/dockerd -H fd://")));
        assert!(!iptables(&flags(
            "/usr/bin/dockerd --iptables=false -H fd://"
        )));
        assert!(iptables(&flags("dockerd --iptables=false --iptables")));
    }

    #[test]
    fn systemd_property_form_and_tls() {
        let f = flags(
            "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H tcp://0.0.0.0:2376 --tlsverify -D --data-root \"/srv/my docker\" ; ignore_errors=no ; start_time=[n/a] }",
        );
        assert_eq!(hosts(&f), ["tcp://0.0.0.0:2376"]);
        assert!(tlsverify(&f));
        let keys: Vec<_> = f.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["hosts", "tlsverify", "debug", "data-root"]);
        assert_eq!(f[3].value.as_deref(), Some("/srv/my docker"));
        assert!(!tlsverify(&flags(
            "dockerd --tlsverify=false -Htcp://0.0.0.0:2375"
        )));
        assert_eq!(
            hosts(&flags("dockerd -H=unix:///x.sock")),
            ["unix:///x.sock"]
        );
    }

    #[test]
    fn newer_boolean_flags_take_no_value() {
        let f = flags("/usr/bin/dockerd --ip-forward-no-drop fd-less -H fd://");
        assert_eq!(f[0].value, None);
        assert_eq!(hosts(&f), ["fd://"]);
    }

    #[test]
    fn program_and_config_file() {
        let line = "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// --config-file /etc/docker/custom.json ; ignore_errors=no }";
        assert_eq!(program(line).as_deref(), Some("/usr/bin/dockerd"));
        assert_eq!(
            config_file(&flags(line)).as_deref(),
            Some("/etc/docker/custom.json")
        );
        assert_eq!(
            config_file(&flags(
                "-/usr/bin/dockerd --config-file=/a.json --config-file=/b.json"
            ))
            .as_deref(),
            Some("/b.json")
        );
        assert_eq!(
            program("-/usr/bin/dockerd -H fd://").as_deref(),
            Some("/usr/bin/dockerd")
        );
        assert_eq!(program("dockerd"), None);
        assert_eq!(config_file(&flags("/usr/bin/dockerd -H fd://")), None);
    }
}
