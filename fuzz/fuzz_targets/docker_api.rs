#![no_main]
//! Raw bytes from a fake Docker socket: the input is split at NUL bytes into HTTP responses,
//! served in turn to the real probe (the capped HTTP client and our handling of the models), one
//! response per connection.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;

static RT: OnceLock<Runtime> = OnceLock::new();
static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

async fn serve(mut s: UnixStream, chunks: Arc<Mutex<VecDeque<Vec<u8>>>>) {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
        if req.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let chunk = chunks.lock().ok().and_then(|mut c| c.pop_front());
    if let Some(chunk) = chunk {
        let _ = s.write_all(&chunk).await;
    }
    let _ = s.shutdown().await;
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    });
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let path = dir.path().join("docker.sock");
    let _ = std::fs::remove_file(&path);
    let chunks: VecDeque<Vec<u8>> = data.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    let chunks = Arc::new(Mutex::new(chunks));
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s, chunks.clone()));
            }
        });
        let uri = format!("unix://{}", path.display());
        let asks = dockdoc::facts::docker::live::Asks {
            min_api_version: true,
            published_ports: true,
        };
        let facts =
            dockdoc::facts::docker::live::probe(&uri, Duration::from_millis(300), asks).await;
        let _ = serde_json::to_string(&facts);
        server.abort();
    });
});
