//! Registration with the local epmd, kept while the C-node runs.

use erl_dist::epmd::{EpmdClient, NodeEntry, DEFAULT_EPMD_PORT};
use erl_dist::node::Creation;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt;

/// Register `name` on `port` with the local epmd as a hidden node; keep the
/// returned connection open to stay registered.
pub async fn register(name: &str, port: u16) -> Result<(TcpStream, Creation), String> {
    let conn = TcpStream::connect((Ipv4Addr::LOCALHOST, DEFAULT_EPMD_PORT))
        .await
        .map_err(|e| format!("no epmd on 127.0.0.1:{DEFAULT_EPMD_PORT} ({e}); start it with `epmd -daemon`"))?;
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
