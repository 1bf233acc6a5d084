//! Accepting connections: each one is entered in the connection table
//! ([`Limits`](super::limits::Limits)) before its handshake, which runs
//! under a deadline; one that passes it is served by its own task.

use super::conn::{self, ConnError};
use super::log::Warn;
use super::Shared;
use erl_dist::handshake::{HandshakeError, HandshakeStatus, ServerSideHandshake};
use erl_dist::DistributionFlags;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::TokioAsyncReadCompatExt;

/// How long a connection may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accept connections for as long as the C-node runs.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let id = shared.limits.handshake_started(peer.ip());
                let task = tokio::spawn(connection(Arc::clone(&shared), stream, peer, id));
                shared.limits.set_abort(id, task.abort_handle());
            }
            Err(e) => {
                // EMFILE and friends: wait a little rather than spin.
                shared.log.warn(Warn::AcceptFailed, || format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One connection: the handshake (which [`Limits`](super::limits::Limits)
/// may cut off), then serving it.
async fn connection(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr, id: u64) {
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
    shared.limits.handshake_ended(id);
    let (stream, peer_node, name) = match done {
        Ok(done) => done,
        Err(HandshakeError::CookieMismatch) => {
            let line = || format!("connection from {peer} refused: wrong cookie");
            return shared.log.warn(Warn::WrongCookie, line);
        }
        Err(e) => {
            let line = || format!("handshake with {peer} failed: {e}");
            return shared.log.warn(Warn::HandshakeFailed, line);
        }
    };
    let aliases = peer_node.flags.contains(DistributionFlags::ALIAS);
    let log = Arc::clone(&shared.log);
    if let Err(e) = conn::serve(shared, id, peer.ip(), stream.into_inner(), aliases).await {
        let kind = match e {
            ConnError::Full => Warn::Full,
            _ => Warn::ConnectionEnded,
        };
        log.warn(kind, || format!("connection with {name} ({peer}) ended: {e}"));
    }
}
