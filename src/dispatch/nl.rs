//! The netlink work of the dispatcher that runs on a worker: the
//! namespace descriptors a message names, and batches sent one message
//! at a time on the worker's kept socket.

use super::{NlMsg, Patch};
use crate::error::{OpError, Stage};
use crate::ns::{Resolver, Target};
use crate::ops::{socket, Ctx, Outcome};
use nix::errno::Errno;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

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
/// socket: each message's replies (or why it was not sent), in order,
/// up to the first that fails when `stop`.
pub(super) fn netlink_batch(ctx: &Ctx, resolver: &Resolver, protocol: i32, msgs: Vec<NlMsg>, stop: bool) -> Outcome {
    let mut out = Vec::with_capacity(msgs.len());
    let mut links = Ifindexes::default();
    for NlMsg { mut msg, patches } in msgs {
        let mut fds = Vec::new();
        let sent = patches
            .iter()
            .try_for_each(|(offset, patch)| {
                let value = match patch {
                    Patch::NsFd(target) => {
                        let fd = ns_fd(resolver, target).map_err(|e| OpError::ns_fd(*offset, e))?;
                        let raw =
                            u32::try_from(fd.as_raw_fd()).map_err(|_| OpError::errno(Stage::OpenNs, Errno::EBADF))?;
                        fds.push(fd);
                        raw
                    }
                    Patch::Ifindex(name) => links.get(name)?,
                };
                let at = msg.get_mut(*offset..offset + 4).ok_or(OpError::badarg("patches"))?;
                at.copy_from_slice(&value.to_ne_bytes());
                Ok(())
            })
            .and_then(|()| ctx.netlink_call(protocol, &msg, 0, |_| false));
        drop(fds);
        let failed = match &sent {
            Ok(replies) => replies.iter().any(|r| socket::nlmsg_errno(r).is_some_and(|e| e != 0)),
            Err(_) => true,
        };
        out.push(Outcome::from(sent.map(Outcome::Messages)));
        if failed && stop {
            break;
        }
    }
    Outcome::Batch(out)
}

/// Indexes of links by name in this thread's network namespace, looked up
/// at the time of each call (an earlier message may have made or renamed
/// the link) through one socket a batch opens at its first look-up.
#[derive(Default)]
struct Ifindexes(Option<OwnedFd>);

impl Ifindexes {
    /// The index of the link named `name` now (`{ifindex, enodev}` when
    /// there is none).
    fn get(&mut self, name: &[u8]) -> Result<u32, OpError> {
        let err = |e| OpError::errno(Stage::Ifindex, e);
        let fd = match &mut self.0 {
            Some(fd) => fd,
            // A socket's network namespace is its creator's: this thread's.
            slot => slot.insert(crate::sys::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0).map_err(err)?),
        };
        crate::sys::if_index_on(fd.as_fd(), name).map_err(err)
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
