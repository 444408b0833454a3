//! What an answer's headers tell besides its body: every answer of the API (`/info`, `/_ping`)
//! carries what `/version` would otherwise be asked for, the daemon's newest API version
//! (`Api-Version`) and its release (`Server: Docker/20.10.24 (linux)`). `/version` costs the
//! daemon as much as `/info` (it runs `runc --version` and `docker-init --version`).

use hyper::header::HeaderMap;

use super::api::printable;

/// What a 200 answer's headers said (of `/info`, or of `/_ping`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pong {
    /// `Api-Version`: the newest API version the daemon speaks, e.g. `1.41`.
    pub api_version: Option<String>,
    /// The release from `Server: Docker/<release> (<os>)`.
    pub server_version: Option<String>,
}

impl Pong {
    /// Reads an answer's headers; a header that is missing or not text is `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| printable(v.trim()))
        };
        Pong {
            api_version: text("api-version"),
            server_version: text("server").as_deref().and_then(server_release),
        }
    }
}

/// `Docker/20.10.24+dfsg1 (linux)` → `20.10.24+dfsg1`.
fn server_release(server: &str) -> Option<String> {
    let rest = server.strip_prefix("Docker/")?;
    let release = rest.split_whitespace().next()?;
    (!release.is_empty()).then(|| release.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The headers of dockerd 20.10's answer.
    fn dockerd_20_10() -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("api-version", "1.41"),
            ("cache-control", "no-cache, no-store, must-revalidate"),
            ("docker-experimental", "false"),
            ("ostype", "linux"),
            ("pragma", "no-cache"),
            ("server", "Docker/20.10.24+dfsg1 (linux)"),
            ("content-length", "2"),
        ] {
            h.insert(name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_the_api_version_and_release_from_a_real_answer() {
        let pong = Pong::from_headers(&dockerd_20_10());
        assert_eq!(pong.api_version.as_deref(), Some("1.41"));
        assert_eq!(pong.server_version.as_deref(), Some("20.10.24+dfsg1"));
    }

    #[test]
    fn an_answer_without_docker_headers_leaves_them_unknown() {
        let mut h = HeaderMap::new();
        h.insert("server", "nginx".parse().unwrap());
        assert_eq!(Pong::from_headers(&h), Pong::default());
    }
}
