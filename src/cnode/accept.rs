//! Accepting connections: a permit of the connection limit is taken before
//! the handshake (a connection past the limit is refused at once), the
//! cookie handshake runs under a deadline, and each connection that passes
//! it becomes one task holding its permit until it ends.

use super::{conn, Shared};
use erl_dist::handshake::{HandshakeError, HandshakeStatus, ServerSideHandshake};
use erl_dist::DistributionFlags;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::compat::TokioAsyncReadCompatExt;

/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a connection may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accept connections for as long as the C-node runs.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) -> Infallible {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    eprintln!("linx_port: connection from {peer} refused: {MAX_CONNECTIONS} connections open");
                    continue;
                };
                tokio::spawn(connection(Arc::clone(&shared), stream, peer, permit));
            }
            Err(e) => {
                // EMFILE and friends: wait a little rather than spin.
                eprintln!("linx_port: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One connection: the handshake, then serving it; `permit` is given back
/// when it ends.
async fn connection(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr, permit: OwnedSemaphorePermit) {
    // Without TCP_NODELAY each reply waits for the peer's delayed ack
    // (~40 ms): the handshake and the replies are written in pieces.
    if let Err(e) = stream.set_nodelay(true) {
        eprintln!("linx_port: {peer}: cannot set TCP_NODELAY: {e}");
    }
    let handshake = async {
        let mut hs = ServerSideHandshake::new(stream.compat(), shared.local_node(), &shared.cookie);
        match hs.execute_recv_name().await? {
            Some(name) => hs.execute_rest(HandshakeStatus::Ok).await.map(|(s, p)| (s, p, name)),
            // A dynamic name (NAME_ME) is not handed out here.
            None => {
                hs.execute_rest(HandshakeStatus::NotAllowed).await?;
                Err(HandshakeError::NotAllowed)
            }
        }
    };
    let done = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(done) => done,
        Err(_) => Err(HandshakeError::Io(io::Error::from(io::ErrorKind::TimedOut))),
    };
    let (stream, peer_node, name) = match done {
        Ok(done) => done,
        Err(HandshakeError::CookieMismatch) => {
            return eprintln!("linx_port: connection from {peer} refused: wrong cookie");
        }
        Err(e) => return eprintln!("linx_port: handshake with {peer} failed: {e}"),
    };
    let aliases = peer_node.flags.contains(DistributionFlags::ALIAS);
    if let Err(e) = conn::serve(shared, stream.into_inner(), aliases).await {
        eprintln!("linx_port: connection with {name} ({peer}) ended: {e}");
    }
    drop(permit);
}
