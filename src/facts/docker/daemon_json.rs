//! `/etc/docker/daemon.json`: syntax (with serde_json's line and column), the types of the
//! keys dockerd reads most often, the top-level keys, `hosts` and `tlsverify`.

use serde_json::Value as Json;

/// What daemon.json says, or why it cannot be used.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonJson {
    /// `line L column C: message` for a syntax error, a note for an empty file, or the keys of
    /// the wrong type joined by `; `. `None` when dockerd would accept the types.
    pub error: Option<String>,
    /// The parsed top-level object; `None` when the file does not parse as an object.
    pub keys: Option<Vec<String>>,
    /// `hosts`; `None` when the file does not parse or `hosts` is not an array of strings.
    pub hosts: Option<Vec<String>>,
    /// `tlsverify: true`; `None` when the file does not parse.
    pub tlsverify: Option<bool>,
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Str,
    Array,
    StrArray,
    Object,
    StrObject,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Bool => "a boolean (true or false)",
            Kind::Str => "a string",
            Kind::Array => "an array",
            Kind::StrArray => "an array of strings",
            Kind::Object => "an object",
            Kind::StrObject => "an object whose values are strings",
        }
    }

    fn fits(self, v: &Json) -> bool {
        match self {
            Kind::Bool => v.is_boolean(),
            Kind::Str => v.is_string(),
            Kind::Array => v.is_array(),
            Kind::StrArray => v.as_array().is_some_and(|a| a.iter().all(Json::is_string)),
            Kind::Object => v.is_object(),
            Kind::StrObject => v
                .as_object()
                .is_some_and(|o| o.values().all(Json::is_string)),
        }
    }
}

/// Keys whose type dockerd checks when it loads the file (`json: cannot unmarshal …`).
const KNOWN: &[(&str, Kind)] = &[
    ("hosts", Kind::StrArray),
    ("data-root", Kind::Str),
    ("storage-driver", Kind::Str),
    ("log-driver", Kind::Str),
    ("log-level", Kind::Str),
    ("log-opts", Kind::StrObject),
    ("dns", Kind::Array),
    ("dns-opts", Kind::StrArray),
    ("dns-search", Kind::StrArray),
    ("debug", Kind::Bool),
    ("iptables", Kind::Bool),
    ("ip6tables", Kind::Bool),
    ("ip-forward", Kind::Bool),
    ("ip-masq", Kind::Bool),
    ("ipv6", Kind::Bool),
    ("bip", Kind::Str),
    ("default-address-pools", Kind::Array),
    ("exec-opts", Kind::StrArray),
    ("registry-mirrors", Kind::StrArray),
    ("insecure-registries", Kind::StrArray),
    ("live-restore", Kind::Bool),
    ("userland-proxy", Kind::Bool),
    ("features", Kind::Object),
    ("tls", Kind::Bool),
    ("tlsverify", Kind::Bool),
    ("group", Kind::Str),
    ("experimental", Kind::Bool),
    ("icc", Kind::Bool),
    ("runtimes", Kind::Object),
    ("labels", Kind::StrArray),
    ("storage-opts", Kind::StrArray),
];

fn found(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// serde_json's message without its ` at line L column C` suffix.
fn bare_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Parses the text of daemon.json.
pub fn parse(text: &str) -> DaemonJson {
    let broken = |error: String| DaemonJson {
        error: Some(error),
        keys: None,
        hosts: None,
        tlsverify: None,
    };
    if text.trim().is_empty() {
        return broken("the file is empty; dockerd fails to start with `EOF`".into());
    }
    let value: Json = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return broken(format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                bare_message(&e)
            ));
        }
    };
    let Json::Object(map) = value else {
        return broken(format!(
            "the top level is {}, dockerd expects an object",
            found(&value)
        ));
    };
    let mut problems = Vec::new();
    for (key, kind) in KNOWN {
        if let Some(v) = map.get(*key)
            && !kind.fits(v)
        {
            problems.push(format!(
                "`{key}` must be {}, found {}",
                kind.describe(),
                found(v)
            ));
        }
    }
    let hosts = match map.get("hosts") {
        None => Some(Vec::new()),
        Some(v) => v.as_array().and_then(|a| {
            a.iter()
                .map(|h| h.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        }),
    };
    DaemonJson {
        error: (!problems.is_empty()).then(|| problems.join("; ")),
        keys: Some(map.keys().cloned().collect()),
        hosts,
        tlsverify: Some(map.get("tlsverify").and_then(Json::as_bool) == Some(true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_file_lists_keys_and_hosts() {
        let d = parse(
            r#"{
  "log-driver": "journald",
  "hosts": ["unix:///run/docker.sock", "tcp://0.0.0.0:2375"],
  "data-root": "/srv/docker"
}
"#,
        );
        assert_eq!(d.error, None);
        assert_eq!(
            d.keys.unwrap(),
            ["data-root", "hosts", "log-driver"].map(String::from)
        );
        assert_eq!(
            d.hosts.unwrap(),
            ["unix:///run/docker.sock", "tcp://0.0.0.0:2375"].map(String::from)
        );
        assert_eq!(d.tlsverify, Some(false));
    }

    #[test]
    fn trailing_comma_gives_line_and_column() {
        let d = parse("{\n  \"log-driver\": \"journald\",\n  \"debug\": true,\n}\n");
        assert_eq!(d.error.as_deref(), Some("line 4 column 1: trailing comma"));
        assert_eq!(d.keys, None);
        assert_eq!(d.hosts, None);
    }

    #[test]
    fn missing_quote_and_garbage() {
        let d = parse("{\"debug\": true, log-driver: \"journald\"}");
        assert_eq!(
            d.error.as_deref(),
            Some("line 1 column 17: key must be a string")
        );
        let d = parse("[1, 2]");
        assert_eq!(
            d.error.as_deref(),
            Some("the top level is an array, dockerd expects an object")
        );
    }

    #[test]
    fn empty_file_is_an_error() {
        for text in ["", "  \n\n"] {
            let d = parse(text);
            assert_eq!(
                d.error.as_deref(),
                Some("the file is empty; dockerd fails to start with `EOF`")
            );
        }
    }

    #[test]
    fn wrong_types_are_named() {
        let d = parse(
            r#"{"hosts": "unix:///run/docker.sock", "debug": "yes", "log-opts": {"max-size": 10}, "tlsverify": true}"#,
        );
        assert_eq!(
            d.error.as_deref(),
            Some(
                "`hosts` must be an array of strings, found a string; `log-opts` must be an object whose values are strings, found an object; `debug` must be a boolean (true or false), found a string"
            )
        );
        assert_eq!(d.hosts, None);
        assert_eq!(d.tlsverify, Some(true));
        assert_eq!(
            d.keys.unwrap(),
            ["debug", "hosts", "log-opts", "tlsverify"].map(String::from)
        );
    }
}
