//! Registration with the local epmd, kept while the C-node runs.

use erl_dist::epmd::{EpmdClient, NodeEntry, DEFAULT_EPMD_PORT};
use erl_dist::node::Creation;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt;

/// How long the C-node waits at start for an epmd that is not listening
/// yet: `epmd -daemon` returns before the daemon it forks has bound its
/// port, so a C-node started right after it would otherwise fail.
const START_WAIT: Duration = Duration::from_secs(5);

/// Register `name` on `port` with the local epmd as a hidden node, waiting
/// up to [`START_WAIT`] for epmd to start listening; keep the returned
/// connection open to stay registered.
pub async fn register_at_start(name: &str, port: u16) -> Result<(TcpStream, Creation), String> {
    let deadline = tokio::time::Instant::now() + START_WAIT;
    let mut pause = Duration::from_millis(5);
    loop {
        match connect().await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            conn => return register_on(conn, name, port).await,
        }
    }
}

/// Register `name` on `port` with the local epmd as a hidden node; keep the
/// returned connection open to stay registered.
pub async fn register(name: &str, port: u16) -> Result<(TcpStream, Creation), String> {
    register_on(connect().await, name, port).await
}

async fn connect() -> std::io::Result<TcpStream> {
    TcpStream::connect((Ipv4Addr::LOCALHOST, DEFAULT_EPMD_PORT)).await
}

async fn register_on(conn: std::io::Result<TcpStream>, name: &str, port: u16) -> Result<(TcpStream, Creation), String> {
    let conn =
        conn.map_err(|e| format!("no epmd on 127.0.0.1:{DEFAULT_EPMD_PORT} ({e}); start it with `epmd -daemon`"))?;
    let (conn, creation) = EpmdClient::new(conn.compat())
        .register(NodeEntry::new_hidden(name, port))
        .await
        .map_err(|e| format!("{e} (is the name {name:?} already registered?)"))?;
    Ok((conn.into_inner(), creation))
}

/// Watch the epmd connection; when epmd goes away (restarted), register
/// again until it works.
pub async fn keep_registered(mut conn: TcpStream, name: String, port: u16) {
    loop {
        let mut byte = [0u8; 1];
        // epmd never sends anything on this connection: this returns when
        // it closes.
        let _ = conn.read(&mut byte).await;
        eprintln!("linx_port: epmd connection lost; registering again");
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match register(&name, port).await {
                Ok((c, _)) => {
                    conn = c;
                    break;
                }
                Err(e) => eprintln!("linx_port: {e}"),
            }
        }
    }
}
