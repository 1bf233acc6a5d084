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
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// The connected sending end.
#[derive(Debug)]
pub struct FdChan {
    sock: OwnedFd,
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
        Ok(FdChan { sock })
    }

    /// Use an already connected socket (a namespace helper's end of the
    /// pair its port made).
    pub fn from_fd(sock: OwnedFd) -> FdChan {
        FdChan { sock }
    }

    /// Send one descriptor tagged with its request id. The caller keeps
    /// (and closes) its own copy.
    pub fn send(&self, id: u64, fd: BorrowedFd<'_>) -> Result<(), Errno> {
        let payload = id.to_be_bytes();
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
