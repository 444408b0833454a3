#![no_main]
//! Raw bytes from a fake X server: the connection setup reply and the ListHosts reply, as
//! the real client in facts::display reads them off a Unix socket.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::runtime::Runtime;

static RT: OnceLock<Runtime> = OnceLock::new();
static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    });
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let path = dir.path().join("X0");
    let _ = std::fs::remove_file(&path);
    let reply = data.to_vec();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(&reply).await;
                let _ = s.shutdown().await;
                let mut buf = [0u8; 256];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            }
        });
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            dockdoc::facts::display::list_hosts(&path, Some(b"0123456789abcdef")),
        )
        .await;
        server.abort();
    });
});
