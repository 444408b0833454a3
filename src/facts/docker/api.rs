//! The Docker Engine API as the probe reads it: one connection per request (so requests go out
//! together), HTTP/1.1 by hyper, and every answer's body read up to a cap. A daemon (or
//! anything listening on its socket) that answers with more than the cap, a `Content-Length`
//! over it or a chunked body that never ends, is refused there: the body is read frame by frame
//! and never held past the cap, so neither memory nor the time spent reading and parsing grows
//! with what the other end sends, and the caller's timeout is checked between frames.

use std::io::ErrorKind;

use http_body_util::BodyExt;
use hyper::Method;
use hyper::body::Body;
use hyper::header::HeaderMap;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::endpoint;

/// The most a JSON answer may hold. dockerd 20.10's `/info` is about 3 KiB and a container in
/// the list about 1 KiB, so this is some 4,000 containers.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The most a `/_ping` answer may hold: its body is `OK`.
pub const MAX_PING_BYTES: usize = 64 * 1024;

/// Where the daemon listens.
#[derive(Clone, Debug)]
pub enum Target {
    Unix(String),
    Tcp(String),
}

impl Target {
    /// The `Host` header: the address for TCP, a name for a socket (which the daemon ignores,
    /// but HTTP/1.1 requires).
    fn host(&self) -> &str {
        match self {
            Target::Unix(_) => "docker",
            Target::Tcp(addr) => addr,
        }
    }
}

/// The endpoint the probe can dial: `unix://` and `tcp://` (or `http://`) only.
pub fn target(uri: &str) -> Result<Target, String> {
    if let Some(path) = endpoint::socket_path(uri) {
        return Ok(Target::Unix(path.to_owned()));
    }
    for scheme in ["tcp://", "http://"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            let addr = rest.trim_end_matches('/');
            return Ok(Target::Tcp(if addr.contains(':') {
                addr.to_owned()
            } else {
                format!("{addr}:2375")
            }));
        }
    }
    Err(format!(
        "{uri}: dockdoc probes only unix:// and tcp:// endpoints; run it on the daemon's host"
    ))
}

/// A connect error as `docker.connect_error` names it.
pub fn classify(e: &std::io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission-denied",
        ErrorKind::NotFound => "not-found",
        ErrorKind::ConnectionRefused => "refused",
        ErrorKind::TimedOut => "timeout",
        _ => "other",
    }
}

/// One connection to the daemon.
pub enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// Opens one connection, as the CLI's dial would.
pub async fn dial(target: &Target) -> std::io::Result<Stream> {
    Ok(match target {
        Target::Unix(path) => Stream::Unix(tokio::net::UnixStream::connect(path).await?),
        Target::Tcp(addr) => Stream::Tcp(tokio::net::TcpStream::connect(addr.as_str()).await?),
    })
}

/// Why a request got no usable answer: one line, without the `GET path` prefix the caller
/// adds, and the HTTP status when the daemon refused it.
#[derive(Debug, PartialEq)]
pub struct Error {
    pub status: Option<u16>,
    pub text: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<String> for Error {
    fn from(text: String) -> Self {
        Error { status: None, text }
    }
}

/// A 2xx answer: its headers and its whole body.
#[derive(Debug)]
pub struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A request's body and its `Content-Type`.
pub struct Payload {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// `GET path` on a new connection to `target`.
pub async fn get(target: &Target, path: &str, cap: usize) -> Result<Answer, Error> {
    send(target, Method::GET, path, None, cap).await
}

/// `method path`, with `payload` as its body, on a new connection to `target`.
pub async fn send(
    target: &Target,
    method: Method,
    path: &str,
    payload: Option<Payload>,
    cap: usize,
) -> Result<Answer, Error> {
    let stream = dial(target)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let request = Request {
        host: target.host(),
        method,
        path,
        payload,
    };
    send_on(stream, request, cap).await
}

/// `GET path` on the connection `stream`, which it then closes.
pub async fn get_on(
    stream: Stream,
    target: &Target,
    path: &str,
    cap: usize,
) -> Result<Answer, Error> {
    let request = Request {
        host: target.host(),
        method: Method::GET,
        path,
        payload: None,
    };
    send_on(stream, request, cap).await
}

async fn send_on(stream: Stream, request: Request<'_>, cap: usize) -> Result<Answer, Error> {
    match stream {
        Stream::Unix(s) => exchange(s, request, cap).await,
        Stream::Tcp(s) => exchange(s, request, cap).await,
    }
}

/// One request, as [`exchange`] sends it.
struct Request<'a> {
    host: &'a str,
    method: Method,
    path: &'a str,
    payload: Option<Payload>,
}

async fn exchange<S>(stream: S, request: Request<'_>, cap: usize) -> Result<Answer, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(request.path)
        .header(hyper::header::HOST, request.host)
        .header(
            hyper::header::USER_AGENT,
            concat!("dockdoc/", env!("CARGO_PKG_VERSION")),
        );
    let body = match request.payload {
        Some(payload) => {
            builder = builder.header(hyper::header::CONTENT_TYPE, payload.content_type);
            payload.bytes
        }
        None => Vec::new(),
    };
    let request = builder
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("cannot start HTTP: {}", one_line(&e)))?;
    let exchange = async {
        let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response.into_body(), cap).await?;
        if !status.is_success() {
            return Err(Error {
                status: Some(status.as_u16()),
                text: format!("HTTP {}: {}", status.as_u16(), error_message(&body)),
            });
        }
        Ok(Answer { headers, body })
    };
    // The connection is driven beside the exchange and dropped (closed) with it. The exchange
    // is polled first (`biased`): it queues the request, so the connection's first poll writes
    // it, rather than finding nothing to send and leaving the request to the runtime's next turn.
    tokio::pin!(connection);
    tokio::pin!(exchange);
    tokio::select! {
        biased;
        answer = &mut exchange => answer,
        ended = &mut connection => match ended {
            Ok(()) => exchange.await,
            Err(e) => Err(one_line(&e).into()),
        },
    }
}

/// Reads `body` whole, refusing it as soon as it is known to exceed `cap`: at once when its
/// `Content-Length` says so, else at the frame that crosses it.
async fn read_body(mut body: hyper::body::Incoming, cap: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("the answer was larger than {cap} bytes");
    let declared = body.size_hint().lower();
    if declared > cap as u64 {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(cap));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| failed(&e))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > cap.saturating_sub(bytes.len()) {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// An answer's JSON body as `T`.
pub fn json<T: serde::de::DeserializeOwned>(answer: &Answer) -> Result<T, String> {
    serde_json::from_slice(&answer.body).map_err(|e| format!("the answer is not valid JSON: {e}"))
}

/// Why reading the answer failed: "the daemon closed the connection mid-answer" when it did
/// (before the head ended, or before the body's length was reached), else hyper's error.
fn failed(e: &hyper::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let cut = s
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
            || s.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == ErrorKind::UnexpectedEof);
        if cut {
            return "the daemon closed the connection mid-answer".to_owned();
        }
        source = s.source();
    }
    format!("cannot read the answer: {}", one_line(e))
}

/// An error with its sources, on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    printable(&text)
}

/// The daemon's error text: `{"message": "..."}` as the API sends it, else the body itself.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ApiError {
        message: String,
    }
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => printable(e.message.trim()),
        Err(_) => printable(String::from_utf8_lossy(body).trim()),
    }
}

/// At most 200 characters, control characters escaped: daemon text goes into a report.
pub fn printable(text: &str) -> String {
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one answer on an in-memory stream and returns what `exchange` made of it.
    async fn served(answer: Vec<u8>, cap: usize) -> Result<Answer, Error> {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let daemon = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buf = [0u8; 256];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = theirs.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            // Written in small pieces, as a slow daemon might.
            for piece in answer.chunks(7) {
                if theirs.write_all(piece).await.is_err() {
                    break;
                }
            }
            String::from_utf8(seen).unwrap()
        });
        let request = Request {
            host: "docker",
            method: Method::GET,
            path: "/_ping",
            payload: None,
        };
        let got = exchange(ours, request, cap).await;
        let sent = daemon.await.unwrap();
        assert!(
            sent.starts_with("GET /_ping HTTP/1.1\r\n") && sent.contains("host: docker\r\n"),
            "{sent}"
        );
        got
    }

    #[tokio::test]
    async fn reads_headers_and_body() {
        let got = served(
            b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK".to_vec(),
            16,
        )
        .await
        .unwrap();
        assert_eq!(got.body, b"OK");
        assert_eq!(got.headers["api-version"], "1.41");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n";
        assert_eq!(served(chunked.to_vec(), 16).await.unwrap().body, b"OK");
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let declared = b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n12345678901234567".to_vec();
        assert_eq!(
            served(declared, 16).await.unwrap_err().text,
            "the answer was larger than 16 bytes"
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n9\r\n123456789\r\n0\r\n\r\n";
        assert_eq!(
            served(chunked.to_vec(), 16).await.unwrap_err().text,
            "the answer was larger than 16 bytes"
        );
        let exact = b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n1234567890123456".to_vec();
        assert_eq!(served(exact, 16).await.unwrap().body.len(), 16);
    }

    #[tokio::test]
    async fn errors_carry_the_status_and_the_daemons_message() {
        let answer = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"message\":\"boom\"}";
        assert_eq!(
            served(answer.to_vec(), 1024).await.unwrap_err(),
            Error {
                status: Some(500),
                text: "HTTP 500: boom".into()
            }
        );
        let plain = b"HTTP/1.0 404 Not Found\r\n\r\npage not\x1b[2J found\n";
        assert_eq!(
            served(plain.to_vec(), 1024).await.unwrap_err().text,
            "HTTP 404: page not\\u{1b}[2J found"
        );
    }

    #[tokio::test]
    async fn garbage_is_an_error() {
        let err = served(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(), 1024)
            .await
            .unwrap_err()
            .text;
        assert!(err.contains("invalid"), "{err}");
        let cut = served(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nOK".to_vec(),
            1024,
        )
        .await
        .unwrap_err()
        .text;
        assert_eq!(cut, "the daemon closed the connection mid-answer");
        let head_only = served(b"HTTP/1.1 200 OK\r\nContent-Len".to_vec(), 1024)
            .await
            .unwrap_err()
            .text;
        assert_eq!(head_only, "the daemon closed the connection mid-answer");
    }

    #[test]
    fn targets() {
        assert!(
            matches!(target("unix:///run/docker.sock"), Ok(Target::Unix(p)) if p == "/run/docker.sock")
        );
        assert!(matches!(target("tcp://10.0.0.2"), Ok(Target::Tcp(a)) if a == "10.0.0.2:2375"));
        assert!(
            matches!(target("tcp://10.0.0.2:2376/"), Ok(Target::Tcp(a)) if a == "10.0.0.2:2376")
        );
        assert!(target("ssh://alice@build").is_err());
    }
}
