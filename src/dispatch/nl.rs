//! The netlink work of the dispatcher that runs on a worker: the
//! namespace descriptors a message names, and batches sent one message
//! at a time on the worker's kept socket.

use super::{NlMsg, Patch};
use crate::error::{OpError, Stage};
use crate::ns::{Resolver, Target};
use crate::ops::socket::{self, Answer};
use crate::ops::{Ctx, Outcome};
use nix::errno::Errno;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// `msg` with the descriptor of each target's network namespace written at
/// its offset, and the descriptors (open until the message is sent).
pub(super) fn with_ns_fds(
    resolver: &Resolver,
    mut msg: Vec<u8>,
    ns_fds: &[(usize, Target)],
) -> Result<(Vec<u8>, Vec<OwnedFd>), OpError> {
    let mut fds = Vec::with_capacity(ns_fds.len());
    for (offset, target) in ns_fds {
        // An error names the entry: it is not the target's.
        let fd = ns_fd(resolver, target).map_err(|e| OpError::ns_fd(*offset, e))?;
        let at = msg.get_mut(*offset..offset + 4).ok_or(OpError::badarg("ns_fds"))?;
        let raw = u32::try_from(fd.as_raw_fd()).map_err(|_| OpError::errno(Stage::OpenNs, Errno::EBADF))?;
        at.copy_from_slice(&raw.to_ne_bytes());
        fds.push(fd);
    }
    Ok((msg, fds))
}

/// The messages of a netlink batch, one at a time on the worker's kept
/// socket: each message's replies (`ok` for a clean ack), or why it was
/// not sent, in order, up to the first that fails when `stop`. A socket
/// on which a call failed is dropped, and the next message gets a new one.
pub(super) fn netlink_batch(ctx: &Ctx, resolver: &Resolver, protocol: i32, msgs: Vec<NlMsg>, stop: bool) -> Outcome {
    let mut out = Vec::with_capacity(msgs.len());
    let mut links = Ifindexes::default();
    let mut msgs = msgs.into_iter().peekable();
    let mut stopped = false;
    while !stopped && msgs.peek().is_some() {
        let mut buf = Vec::new();
        let run = ctx.with_netlink(protocol, |fd| {
            for NlMsg { msg, patches } in msgs.by_ref() {
                let sent = Sent::new(fd, resolver, &mut links, &mut buf, protocol, msg, &patches);
                out.push(sent.outcome);
                if sent.failed && stop {
                    stopped = true;
                    return ((), sent.sound);
                }
                if !sent.sound {
                    return ((), false);
                }
            }
            ((), true)
        });
        if let Err(e) = run {
            // No socket to send on: the next message says why.
            msgs.next();
            out.push(Outcome::Error(e));
            stopped = stop;
        }
    }
    Outcome::Batch(out)
}

/// One message of a batch, sent: its outcome, whether it failed, and
/// whether the socket is still sound.
struct Sent {
    outcome: Outcome,
    failed: bool,
    sound: bool,
}

impl Sent {
    fn new(
        fd: BorrowedFd<'_>,
        resolver: &Resolver,
        links: &mut Ifindexes,
        buf: &mut Vec<u8>,
        protocol: i32,
        mut msg: Vec<u8>,
        patches: &[(usize, Patch)],
    ) -> Sent {
        let mut fds = Vec::new();
        let patched = patches.iter().try_for_each(|(offset, patch)| {
            let value = match patch {
                Patch::NsFd(target) => {
                    let fd = ns_fd(resolver, target).map_err(|e| OpError::ns_fd(*offset, e))?;
                    let raw = u32::try_from(fd.as_raw_fd()).map_err(|_| OpError::errno(Stage::OpenNs, Errno::EBADF))?;
                    fds.push(fd);
                    raw
                }
                Patch::Ifindex(name) => links.get(name)?,
            };
            let at = msg.get_mut(*offset..offset + 4).ok_or(OpError::badarg("patches"))?;
            at.copy_from_slice(&value.to_ne_bytes());
            Ok(())
        });
        if let Err(e) = patched {
            return Sent {
                outcome: Outcome::Error(e),
                failed: true,
                sound: true,
            };
        }
        let answer = socket::change_on(fd, &msg, buf);
        if changes_links(protocol, &msg) {
            links.forget();
        }
        drop(fds);
        match answer {
            Ok(Answer::Acked) => Sent {
                outcome: Outcome::Ok,
                failed: false,
                sound: true,
            },
            Ok(Answer::Replies(replies)) => Sent {
                failed: replies.iter().any(|r| socket::nlmsg_errno(r).is_some_and(|e| e != 0)),
                outcome: Outcome::Messages(replies),
                sound: true,
            },
            Err(e) => Sent {
                outcome: Outcome::Error(e),
                failed: true,
                sound: false,
            },
        }
    }
}

/// Whether `msg` may have made, renamed, moved or deleted a link: an
/// rtnetlink link message, or any message of another protocol.
fn changes_links(protocol: i32, msg: &[u8]) -> bool {
    let ty = msg.get(4..6).map_or(0, |t| u16::from_ne_bytes([t[0], t[1]]));
    protocol != libc::NETLINK_ROUTE || matches!(ty, libc::RTM_NEWLINK | libc::RTM_DELLINK | libc::RTM_SETLINK)
}

/// Indexes of links by name in this thread's network namespace, looked up
/// through one socket a batch opens at its first look-up, and kept until
/// a message of the batch may have changed the links ([`changes_links`]):
/// a name an earlier message made or renamed is looked up after it.
#[derive(Default)]
struct Ifindexes {
    fd: Option<OwnedFd>,
    known: HashMap<Vec<u8>, u32>,
}

impl Ifindexes {
    /// The index of the link named `name` (`{ifindex, enodev}` when there
    /// is none).
    fn get(&mut self, name: &[u8]) -> Result<u32, OpError> {
        if let Some(&index) = self.known.get(name) {
            return Ok(index);
        }
        let err = |e| OpError::errno(Stage::Ifindex, e);
        let fd = match &mut self.fd {
            Some(fd) => fd,
            // A socket's network namespace is its creator's: this thread's.
            slot => slot.insert(crate::sys::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0).map_err(err)?),
        };
        let index = crate::sys::if_index_on(fd.as_fd(), name).map_err(err)?;
        self.known.insert(name.to_vec(), index);
        Ok(index)
    }

    fn forget(&mut self) {
        self.known.clear();
    }
}

/// A descriptor of the network namespace of `target`.
fn ns_fd(resolver: &Resolver, target: &Target) -> Result<OwnedFd, OpError> {
    let mut set = resolver.resolve_net(target)?;
    match set.members.pop() {
        Some(member) => Ok(member.fd),
        // The port's own network namespace (left out of sets).
        None => crate::sys::open(c"/proc/self/ns/net", libc::O_RDONLY).map_err(|e| OpError::errno(Stage::OpenNs, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::changes_links;

    fn message(ty: u16) -> Vec<u8> {
        let mut m = vec![0u8; 16];
        m[4..6].copy_from_slice(&ty.to_ne_bytes());
        m
    }

    #[test]
    fn link_messages_make_names_be_looked_up_again() {
        for ty in [libc::RTM_NEWLINK, libc::RTM_DELLINK, libc::RTM_SETLINK] {
            assert!(changes_links(libc::NETLINK_ROUTE, &message(ty)));
        }
        for ty in [
            libc::RTM_NEWADDR,
            libc::RTM_NEWROUTE,
            libc::RTM_DELNEIGH,
            libc::RTM_GETLINK,
        ] {
            assert!(!changes_links(libc::NETLINK_ROUTE, &message(ty)));
        }
        // Another protocol may do anything; a message too short to say.
        assert!(changes_links(libc::NETLINK_GENERIC, &message(libc::RTM_NEWADDR)));
        assert!(!changes_links(libc::NETLINK_ROUTE, &[0; 4]));
    }
}
