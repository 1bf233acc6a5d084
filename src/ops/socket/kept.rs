//! The netlink sockets a worker keeps between its calls (see [`Kept`]).

use super::{batch_on, is_batch, netlink, netlink_call_on, netlink_strict, Result};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long a worker keeps a netlink socket it has not used.
pub const KEPT_IDLE: Duration = Duration::from_secs(10);

/// The netlink sockets one worker keeps for its calls, one per protocol
/// (and a second one with strict checking, for the calls that ask for it):
/// a call reuses the socket of the one before it, in the same network
/// namespace, instead of making one. A socket is used by one call at a
/// time (a worker runs one op at a time), so replies are never mixed; a
/// call that fails closes its socket, with whatever replies it still
/// holds; one unused for [`KEPT_IDLE`] is closed rather than used.
/// A kept socket's protocol, and whether it checks strictly.
type Proto = (i32, bool);

#[derive(Debug, Default)]
pub struct Kept {
    sockets: Vec<(Proto, OwnedFd, Instant)>,
    /// An rtnetlink socket made for the front end, not yet handed over;
    /// and whether one was made.
    offer: Option<OwnedFd>,
    offered: bool,
}

impl Kept {
    /// [`netlink_call_parts`](super::netlink_call_parts) on the kept socket of `protocol`,
    /// the one with strict checking (see [`netlink_strict`]) when `strict`; an
    /// nf_tables batch ([`is_batch`]) through [`batch_on`].
    pub fn call<F>(
        &mut self,
        protocol: i32,
        strict: bool,
        msg: &[u8],
        part_bytes: usize,
        take_part: F,
    ) -> Result<Vec<Vec<u8>>>
    where
        F: FnMut(&[Vec<u8>]) -> bool,
    {
        let fd = self.take((protocol, strict))?;
        let replies = if is_batch(protocol, msg) {
            batch_on(fd.as_fd(), msg)?
        } else {
            netlink_call_on(fd.as_fd(), msg, part_bytes, take_part)?
        };
        self.keep((protocol, strict), fd);
        Ok(replies)
    }

    /// `run` on the kept socket of `protocol`, which it returns with
    /// whether the socket is still fit to keep (no call on it failed).
    pub fn with<T>(&mut self, protocol: i32, run: impl FnOnce(BorrowedFd<'_>) -> (T, bool)) -> Result<T> {
        let fd = self.take((protocol, false))?;
        let (out, sound) = run(fd.as_fd());
        if sound {
            self.keep((protocol, false), fd);
        }
        Ok(out)
    }

    /// The socket of `protocol`, out of the pool: the one kept, unless it
    /// has been idle too long, or a new one.
    fn take(&mut self, (protocol, strict): Proto) -> Result<OwnedFd> {
        let now = Instant::now();
        let kept = match self.sockets.iter().position(|(p, _, _)| *p == (protocol, strict)) {
            Some(i) => {
                let (_, fd, used) = self.sockets.swap_remove(i);
                (now.saturating_duration_since(used) < KEPT_IDLE).then_some(fd)
            }
            None => None,
        };
        let fd = match kept {
            Some(fd) => fd,
            None if strict => netlink_strict(protocol)?,
            None => {
                if protocol == libc::NETLINK_ROUTE && !self.offered {
                    // One of its own for the front end (at most one per
                    // worker): changes to this namespace need no hand-off.
                    self.offered = true;
                    self.offer = netlink(protocol, 0).ok();
                }
                netlink(protocol, 0)?
            }
        };
        Ok(fd)
    }

    /// Put the socket of `protocol` back, used now.
    fn keep(&mut self, protocol: Proto, fd: OwnedFd) {
        self.sockets.push((protocol, fd, Instant::now()));
    }

    /// The rtnetlink socket made for the front end, once.
    pub fn take_offer(&mut self) -> Option<OwnedFd> {
        self.offer.take()
    }

    /// How many sockets are kept.
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }
}
