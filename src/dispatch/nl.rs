//! The netlink work of the dispatcher that runs on a worker: the
//! namespace descriptors a message names, and batches sent on the
//! worker's kept socket (changes grouped, see [`netlink_batch`]).

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
        let raw = ns_fd_value(resolver, *offset, target, &mut fds)?;
        write_at(&mut msg, *offset, raw, "ns_fds")?;
    }
    Ok((msg, fds))
}

/// The descriptor of `target`'s network namespace as the value a message
/// carries at `offset`; the descriptor goes to `fds`, to stay open until
/// the message is sent. An error names the entry: it is not the target's.
fn ns_fd_value(resolver: &Resolver, offset: usize, target: &Target, fds: &mut Vec<OwnedFd>) -> Result<u32, OpError> {
    let fd = ns_fd(resolver, target).map_err(|e| OpError::ns_fd(offset, e))?;
    let raw = u32::try_from(fd.as_raw_fd()).map_err(|_| OpError::errno(Stage::OpenNs, Errno::EBADF))?;
    fds.push(fd);
    Ok(raw)
}

/// `value` written at `offset` of `msg`, in host byte order; an offset
/// past the message is a bad argument `what`.
fn write_at(msg: &mut [u8], offset: usize, value: u32, what: &'static str) -> Result<(), OpError> {
    let at = msg.get_mut(offset..offset + 4).ok_or(OpError::badarg(what))?;
    at.copy_from_slice(&value.to_ne_bytes());
    Ok(())
}

/// Most messages of a batch sent in one `sendto` (see [`Group`]).
const GROUP: usize = 64;

/// The messages of a netlink batch on the worker's kept socket: each
/// message's replies (`ok` for a clean ack), or why it was not sent, in
/// order. With `stop`, one at a time, up to the first that fails; without,
/// changes go in groups of up to [`GROUP`] per `sendto`, a group ending
/// at a message that may change links (a name is looked up after it). A
/// socket on which a call failed is dropped, and the next message gets a
/// new one.
pub(super) fn netlink_batch(ctx: &Ctx, resolver: &Resolver, protocol: i32, msgs: Vec<NlMsg>, stop: bool) -> Outcome {
    let mut out = Vec::with_capacity(msgs.len());
    let mut links = Ifindexes::default();
    let mut msgs = msgs.into_iter().peekable();
    let mut stopped = false;
    while !stopped && msgs.peek().is_some() {
        let mut buf = Vec::new();
        let run = ctx.with_netlink(protocol, |fd| {
            let mut group = Group::default();
            for NlMsg { mut msg, patches } in msgs.by_ref() {
                let fds = match patch(resolver, &mut links, &mut msg, &patches) {
                    Ok(fds) => fds,
                    Err(e) => {
                        out.push(Outcome::Error(e));
                        if stop {
                            stopped = true;
                            return ((), true);
                        }
                        continue;
                    }
                };
                let link = changes_links(protocol, &msg);
                if !stop && socket::at_once(&msg) {
                    out.push(Outcome::Ok);
                    group.push(out.len() - 1, msg, fds);
                    if (link || group.msgs.len() == GROUP) && !group.send(fd, &mut out, &mut buf) {
                        return ((), false);
                    }
                } else {
                    // Alone, after the changes before it.
                    if !group.send(fd, &mut out, &mut buf) {
                        return ((), false);
                    }
                    let (outcome, sound) = outcome(socket::change_on(fd, &msg, &mut buf));
                    drop(fds);
                    let failed = !sound || is_error(&outcome);
                    out.push(outcome);
                    if !sound || (failed && stop) {
                        stopped = stop;
                        return ((), sound);
                    }
                }
                if link {
                    links.forget();
                }
            }
            let sound = group.send(fd, &mut out, &mut buf);
            ((), sound)
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

/// Changes patched and waiting to go in one `sendto`: the messages, the
/// place of each one's outcome, and the namespace descriptors they carry
/// (open until they are sent).
#[derive(Default)]
struct Group {
    msgs: Vec<Vec<u8>>,
    slots: Vec<usize>,
    fds: Vec<OwnedFd>,
}

impl Group {
    fn push(&mut self, slot: usize, msg: Vec<u8>, fds: Vec<OwnedFd>) {
        self.msgs.push(msg);
        self.slots.push(slot);
        self.fds.extend(fds);
    }

    /// Send what waits, putting each answer in its place; whether the
    /// socket is still sound. Empty afterwards.
    fn send(&mut self, fd: BorrowedFd<'_>, out: &mut [Outcome], buf: &mut Vec<u8>) -> bool {
        if self.msgs.is_empty() {
            return true;
        }
        let answers = socket::changes_on(fd, &self.msgs, buf);
        self.msgs.clear();
        self.fds.clear();
        let slots = std::mem::take(&mut self.slots);
        match answers {
            Ok(answers) => {
                for (slot, answer) in slots.into_iter().zip(answers) {
                    if let Some(place) = out.get_mut(slot) {
                        *place = outcome(Ok(answer)).0;
                    }
                }
                true
            }
            Err(e) => {
                for slot in slots {
                    if let Some(place) = out.get_mut(slot) {
                        *place = Outcome::Error(e.clone());
                    }
                }
                false
            }
        }
    }
}

/// `msg` with its patches written in: the namespace descriptors it
/// carries (to keep open until it is sent), or why it cannot be.
fn patch(
    resolver: &Resolver,
    links: &mut Ifindexes,
    msg: &mut [u8],
    patches: &[(usize, Patch)],
) -> Result<Vec<OwnedFd>, OpError> {
    let mut fds = Vec::new();
    for (offset, patch) in patches {
        let value = match patch {
            Patch::NsFd(target) => ns_fd_value(resolver, *offset, target, &mut fds)?,
            Patch::Ifindex(name) => links.get(name)?,
        };
        write_at(msg, *offset, value, "patches")?;
    }
    Ok(fds)
}

/// A message's outcome from its answer, and whether the socket is still
/// sound.
fn outcome(answer: Result<Answer, OpError>) -> (Outcome, bool) {
    match answer {
        Ok(Answer::Acked) => (Outcome::Ok, true),
        Ok(Answer::Replies(replies)) => (Outcome::Messages(replies), true),
        Err(e) => (Outcome::Error(e), false),
    }
}

/// Whether an outcome is a failure: an error, or replies that hold one.
fn is_error(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Error(_) => true,
        Outcome::Messages(replies) => replies.iter().any(|r| socket::nlmsg_errno(r).is_some_and(|e| e != 0)),
        _ => false,
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
