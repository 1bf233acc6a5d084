//! The fd channel: descriptors travel to the BEAM over a connected
//! `AF_UNIX` `SOCK_SEQPACKET` socket, one message each, whose payload is the
//! request id (8 bytes, big-endian) and whose control data is `SCM_RIGHTS`.
//!
//! The Erlang side listens on an abstract address it chose at random,
//! passes the name (without the leading NUL) as `--fd-socket NAME`, accepts
//! exactly one peer and checks with `SO_PEERCRED` that it is this process.

use nix::errno::Errno;
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use std::collections::HashMap;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

/// The connected sending end.
#[derive(Debug)]
pub struct FdChan {
    sock: OwnedFd,
    /// Sent instead of the request id, when set (see [`FdChan::connect_tagged`]).
    tag: Option<u64>,
}

impl FdChan {
    /// Connect to the abstract address `\0NAME`.
    pub fn connect(name: &str) -> Result<FdChan, Errno> {
        let addr = UnixAddr::new_abstract(name.as_bytes())?;
        let sock = socket(AddressFamily::Unix, SockType::SeqPacket, SockFlag::SOCK_CLOEXEC, None)?;
        loop {
            match connect(sock.as_raw_fd(), &addr) {
                Err(Errno::EINTR) => continue,
                r => r?,
            }
            break;
        }
        Ok(FdChan { sock, tag: None })
    }

    /// Connect to `\0NAME` for the descriptor of one request, which is
    /// then sent tagged with `tag` (chosen by the receiver) rather than with
    /// this process's own request id. C-node mode: the caller listens.
    pub fn connect_tagged(name: &str, tag: u64) -> Result<FdChan, Errno> {
        let mut chan = Self::connect(name)?;
        chan.tag = Some(tag);
        Ok(chan)
    }

    /// Use an already connected socket (a namespace helper's end of the
    /// pair its port made).
    pub fn from_fd(sock: OwnedFd) -> FdChan {
        FdChan { sock, tag: None }
    }

    /// Send one descriptor tagged with its request id. The caller keeps
    /// (and closes) its own copy.
    pub fn send(&self, id: u64, fd: BorrowedFd<'_>) -> Result<(), Errno> {
        let payload = self.tag.unwrap_or(id).to_be_bytes();
        let iov = [IoSlice::new(&payload)];
        let fds = [fd.as_raw_fd()];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        loop {
            match sendmsg::<()>(self.sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(n) if n == payload.len() => return Ok(()),
                Ok(_) => return Err(Errno::EMSGSIZE),
            }
        }
    }
}

/// Channels registered for single requests, by request id: the dispatcher
/// takes a request's channel (if any) when it starts the request.
#[derive(Debug, Clone, Default)]
pub struct PerRequest(Arc<Mutex<HashMap<u64, Arc<FdChan>>>>);

impl PerRequest {
    /// Register `chan` for request `id`.
    pub fn insert(&self, id: u64, chan: Arc<FdChan>) {
        self.lock().insert(id, chan);
    }

    /// Take the channel of request `id`, if one is registered.
    pub fn take(&self, id: u64) -> Option<Arc<FdChan>> {
        self.lock().remove(&id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<FdChan>>> {
        // Every update is one call: a poisoned map is still consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
