//! `GET /_ping` by hand, on the connection the probe dials. Its headers carry what `/version`
//! would otherwise be asked for: the daemon's newest API version (`Api-Version`) and its
//! release (`Server: Docker/20.10.24 (linux)`). `/version` costs the daemon as much as `/info`
//! (it runs `runc --version` and `docker-init --version`), and bollard's ping returns only the
//! body.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A ping answer larger than this is not a Docker daemon's.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a 200 answer to `/_ping` said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pong {
    /// `Api-Version`: the newest API version the daemon speaks, e.g. `1.41`.
    pub api_version: Option<String>,
    /// The release from `Server: Docker/<release> (<os>)`.
    pub server_version: Option<String>,
}

/// The request: HTTP/1.1 with `Connection: close`, so the answer ends with the connection if
/// it carries no length.
pub fn request() -> String {
    format!(
        "GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockdoc/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Sends the ping on `stream` and reads the answer. Errors are one line, without the
/// `GET /_ping` prefix the caller adds. The caller bounds this with its timeout.
pub async fn ping<S>(stream: &mut S) -> Result<Pong, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request().as_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut answer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        let eof = n == 0;
        answer.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(pong) = parse(&answer, eof)? {
            return Ok(pong);
        }
        if eof {
            return Err("the daemon closed the connection before its answer ended".to_owned());
        }
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is longer than {MAX_ANSWER_BYTES} bytes; not a Docker daemon"
            ));
        }
    }
}

/// Parses an answer read so far: `Ok(None)` while it is incomplete; `eof` says the connection
/// has ended, which completes an answer that carries no length.
pub fn parse(answer: &[u8], eof: bool) -> Result<Option<Pong>, String> {
    let Some(head_end) = find(answer, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(answer.get(..head_end).unwrap_or_default());
    let body = answer.get(head_end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = parse_status(status_line)
        .ok_or_else(|| format!("not an HTTP answer: {}", printable(status_line)))?;
    let mut pong = Pong::default();
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("a malformed header line: {}", printable(line)));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "api-version" => pong.api_version = Some(value.to_owned()),
            "server" => pong.server_version = server_release(value),
            "content-length" => {
                length =
                    Some(value.parse::<usize>().map_err(|_| {
                        format!("a malformed Content-Length: {}", printable(value))
                    })?);
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        match dechunk(body)? {
            Some(b) => b,
            None if eof => return Err("the daemon closed the connection mid-answer".to_owned()),
            None => return Ok(None),
        }
    } else if let Some(length) = length {
        match body.get(..length) {
            Some(b) => b.to_vec(),
            None if eof => return Err("the daemon closed the connection mid-answer".to_owned()),
            None => return Ok(None),
        }
    } else if eof {
        body.to_vec()
    } else {
        return Ok(None);
    };
    if status != 200 {
        return Err(format!("HTTP {status}: {}", error_message(&body)));
    }
    Ok(Some(pong))
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let (_, rest) = rest.split_once(' ')?;
    let code = rest.get(..3)?;
    code.parse().ok().filter(|c| (100..600).contains(c))
}

/// `Docker/20.10.24+dfsg1 (linux)` → `20.10.24+dfsg1`.
fn server_release(server: &str) -> Option<String> {
    let rest = server.strip_prefix("Docker/")?;
    let release = rest.split_whitespace().next()?;
    (!release.is_empty()).then(|| release.to_owned())
}

/// The daemon's error text: `{"message": "..."}` as the API sends it, else the body itself.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ApiError {
        message: String,
    }
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => e.message.trim().to_owned(),
        Err(_) => printable(String::from_utf8_lossy(body).trim()),
    }
}

/// A chunked body, decoded: `Ok(None)` while incomplete.
fn dechunk(mut body: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = find(body, b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(body.get(..line_end).unwrap_or_default());
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a malformed chunk size: {}", printable(size_text)))?;
        let rest = body.get(line_end + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(Some(out));
        }
        let Some(data) = rest.get(..size) else {
            return Ok(None);
        };
        out.extend_from_slice(data);
        match rest.get(size..size + 2) {
            Some(b"\r\n") => body = rest.get(size + 2..).unwrap_or_default(),
            Some(_) => return Err("a chunk does not end with CRLF".to_owned()),
            None => return Ok(None),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// At most 200 characters, control characters escaped: daemon text goes into a report.
fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(200)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().nth(200).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKERD_20_10: &[u8] = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nCache-Control: no-cache, no-store, must-revalidate\r\nDocker-Experimental: false\r\nOstype: linux\r\nPragma: no-cache\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nDate: Thu, 26 Nov 2026 12:01:39 GMT\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOK";

    #[test]
    fn reads_the_api_version_and_release_from_a_real_answer() {
        let pong = parse(DOCKERD_20_10, false).unwrap().unwrap();
        assert_eq!(pong.api_version.as_deref(), Some("1.41"));
        assert_eq!(pong.server_version.as_deref(), Some("20.10.24+dfsg1"));
    }

    #[test]
    fn an_answer_is_complete_only_with_its_whole_body() {
        let short = DOCKERD_20_10.get(..DOCKERD_20_10.len() - 1).unwrap();
        assert_eq!(parse(short, false), Ok(None));
        assert!(parse(short, true).unwrap_err().contains("mid-answer"));
        let head_only = DOCKERD_20_10.get(..40).unwrap();
        assert_eq!(parse(head_only, false), Ok(None));
    }

    #[test]
    fn errors_carry_the_status_and_the_daemons_message() {
        let answer = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"message\":\"boom\"}";
        assert_eq!(parse(answer, false), Err("HTTP 500: boom".to_owned()));
        let plain = b"HTTP/1.0 404 Not Found\r\n\r\npage not found\n";
        assert_eq!(parse(plain, false), Ok(None));
        assert_eq!(
            parse(plain, true),
            Err("HTTP 404: page not found".to_owned())
        );
    }

    #[test]
    fn chunked_answers_are_decoded() {
        let answer =
            b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n";
        let pong = parse(answer, false).unwrap().unwrap();
        assert_eq!(pong.api_version.as_deref(), Some("1.47"));
        let partial = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nO";
        assert_eq!(parse(partial, false), Ok(None));
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(parse(bad, false).unwrap_err().contains("chunk size"));
    }

    #[test]
    fn garbage_is_an_error_that_names_it() {
        assert!(
            parse(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", false)
                .unwrap_err()
                .starts_with("not an HTTP answer: SSH-2.0")
        );
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", true)
                .unwrap_err()
                .contains("malformed header")
        );
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", true)
                .unwrap_err()
                .contains("Content-Length")
        );
        assert!(parse(b"HTTP/1.1 2\r\n\r\n", true).is_err());
        assert!(parse("HTTP/1.1 200 \u{e9}\r\n\r\n".as_bytes(), true).is_ok());
    }

    #[test]
    fn an_answer_without_docker_headers_leaves_them_unknown() {
        let pong = parse(
            b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nOK",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(pong, Pong::default());
    }

    #[tokio::test]
    async fn pings_over_a_stream() {
        let (mut ours, mut theirs) = tokio::io::duplex(256);
        let daemon = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buf = [0u8; 64];
            while find(&seen, b"\r\n\r\n").is_none() {
                let n = theirs.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            // Written in small pieces, as a slow daemon might.
            for piece in DOCKERD_20_10.chunks(7) {
                theirs.write_all(piece).await.unwrap();
            }
            String::from_utf8(seen).unwrap()
        });
        let pong = ping(&mut ours).await.unwrap();
        assert_eq!(pong.api_version.as_deref(), Some("1.41"));
        let sent = daemon.await.unwrap();
        assert!(
            sent.starts_with("GET /_ping HTTP/1.1\r\nHost: docker\r\n"),
            "{sent}"
        );
    }
}
