//! The fd channel: descriptors travel to the BEAM over a connected
//! `AF_UNIX` `SOCK_SEQPACKET` socket, one message each, whose payload is the
//! request id (8 bytes, big-endian) and whose control data is `SCM_RIGHTS`.
//!
//! The Erlang side listens on an abstract address it chose at random,
//! passes the name (without the leading NUL) as `--fd-socket NAME`, accepts
//! exactly one peer and checks with `SO_PEERCRED` that it is this process
//! or a descendant of the port (a wrapper such as `sudo` forks).
//!
//! A port program given `--fd-socket` also proves that it is the one the
//! node started: the node writes a random start token as the first frame
//! on stdin (`{packet,4}`, the body is the token's bytes, not a term),
//! which only the node can write, and the program sends those bytes as
//! its first message on the channel ([`read_token`], [`FdChan::connect_with_token`]).
//! This works when the program runs as another user than the node, whose
//! `/proc/PID/exe` the node cannot read.

use nix::errno::Errno;
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

/// The largest start token read from stdin (the node sends 32 bytes).
pub const MAX_TOKEN: usize = 64;

/// Read the start token: the first `{packet,4}` frame on `input`, read
/// byte-exactly so that the frames after it stay for the port's reader.
pub fn read_token(input: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    read_exact(input, &mut header)?;
    let len = u32::from_be_bytes(header) as usize;
    if len == 0 || len > MAX_TOKEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the start token has {len} bytes, not 1 to {MAX_TOKEN}"),
        ));
    }
    let mut token = vec![0u8; len];
    read_exact(input, &mut token)?;
    Ok(token)
}

fn read_exact(input: BorrowedFd<'_>, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match nix::unistd::read(input.as_raw_fd(), buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

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

    /// Connect to `\0NAME` and send `token` as the first message (port
    /// mode: see the module documentation).
    pub fn connect_with_token(name: &str, token: &[u8]) -> Result<FdChan, Errno> {
        let chan = Self::connect(name)?;
        let iov = [IoSlice::new(token)];
        loop {
            match sendmsg::<()>(chan.sock.as_raw_fd(), &iov, &[], MsgFlags::MSG_NOSIGNAL, None) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(n) if n == token.len() => return Ok(chan),
                Ok(_) => return Err(Errno::EMSGSIZE),
            }
        }
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

    /// The process at the other end (`SO_PEERCRED`): in port mode, the
    /// node that started this program and listens on the channel.
    pub fn peer_pid(&self) -> Result<i32, Errno> {
        nix::sys::socket::getsockopt(&self.sock, nix::sys::socket::sockopt::PeerCredentials).map(|c| c.pid())
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

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{pipe, write};
    use std::os::fd::AsFd;

    fn token_from(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let (r, w) = pipe().expect("pipe");
        write(&w, bytes).expect("write");
        drop(w);
        read_token(r.as_fd())
    }

    #[test]
    fn token_is_the_first_frame_and_nothing_more() {
        let (r, w) = pipe().expect("pipe");
        write(&w, b"\0\0\0\x03abc\0\0\0\x01z").expect("write");
        assert_eq!(read_token(r.as_fd()).expect("token"), b"abc");
        // The next frame is left for the port's reader.
        let mut rest = [0u8; 5];
        assert_eq!(nix::unistd::read(r.as_raw_fd(), &mut rest), Ok(5));
        assert_eq!(&rest, b"\0\0\0\x01z");
    }

    #[test]
    fn bad_tokens_refused() {
        assert!(token_from(b"").is_err());
        assert!(token_from(b"\0\0\0\x05abc").is_err());
        assert!(token_from(b"\0\0\0\0").is_err());
        assert!(token_from(&[0, 0, 0, (MAX_TOKEN + 1) as u8]).is_err());
    }
}
