//! nf_tables batches: the messages between `NFNL_MSG_BATCH_BEGIN` and
//! `NFNL_MSG_BATCH_END` on a `NETLINK_NETFILTER` socket are one kernel
//! transaction, applied whole or not at all.
//!
//! They go in one `sendto`, which the kernel processes before it returns:
//! the begin and end messages get no reply; every message of the batch
//! that fails gets its error, with or without `NLM_F_ACK`, and one that
//! asks for an ack and succeeds gets its ack, all once the transaction
//! is settled; an error about the batch itself (it could not start, or
//! its commit failed) answers the begin message. So the answer is
//! complete when the last message that asked for an ack is answered, or
//! the begin message has an error; what else is there by then belongs
//! to it too and is read without waiting.

use super::{nlmsg_errno, prepare_requests, recv_datagram, send_whole, split_messages};
use super::{Result, NETLINK_CALL_MAX, NETLINK_CALL_TIMEOUT, NLMSG_HDRLEN};
use crate::error::{OpError, Stage};
use nix::errno::Errno;
use std::os::fd::BorrowedFd;
use std::time::Instant;

/// Whether `msg` is an nf_tables batch: messages of `NETLINK_NETFILTER`
/// of which the first is `NFNL_MSG_BATCH_BEGIN`.
pub fn is_batch(protocol: i32, msg: &[u8]) -> bool {
    protocol == libc::NETLINK_NETFILTER
        && msg.len() >= NLMSG_HDRLEN
        && libc::c_int::from(u16::from_ne_bytes([msg[4], msg[5]])) == libc::NFNL_MSG_BATCH_BEGIN
}

/// Send the batch `msg` ([`is_batch`]) on `fd` in one `sendto` and return
/// every reply message (see the module doc for when that is). Gives up
/// as [`super::netlink_call`] does: `{recv, etimedout}` after
/// [`NETLINK_CALL_TIMEOUT`], `{recv, emsgsize}` beyond [`NETLINK_CALL_MAX`]
/// bytes.
pub fn batch_on(fd: BorrowedFd<'_>, msg: &[u8]) -> Result<Vec<Vec<u8>>> {
    let (request, acks) = prepare_requests(msg)?;
    let seqs = sequence_numbers(&request);
    let begin = seqs.first().copied();
    let last_acked = seqs.iter().zip(&acks).rev().find(|(_, ack)| **ack).map(|(seq, _)| *seq);
    fit_send_buffer(fd, request.len());
    send_whole(fd, &request)?;
    let deadline = Instant::now() + NETLINK_CALL_TIMEOUT;
    let mut settled = last_acked.is_none();
    let mut replies = Vec::new();
    let mut total = 0;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // Once settled, only what is there already.
        let until = if settled { Instant::now() } else { deadline };
        let n = match recv_datagram(fd, &mut buf, until, false) {
            Ok(n) => n,
            Err(e) if settled && e == OpError::errno(Stage::Recv, Errno::ETIMEDOUT) => return Ok(replies),
            Err(e) => return Err(e),
        };
        for m in split_messages(&buf[..n])? {
            total += m.len();
            if total > NETLINK_CALL_MAX {
                return Err(OpError::errno(Stage::Recv, Errno::EMSGSIZE));
            }
            if let Some(errno) = nlmsg_errno(m) {
                let seq = sequence_number(m);
                settled |= seq == last_acked || (seq == begin && errno != 0);
            }
            replies.push(m.to_vec());
        }
    }
}

/// Batches up to this size fit the send buffer a socket starts with
/// (`net.core.wmem_default`, 208 KiB here, and the kernel doubles it).
const SMALL_BATCH: usize = 128 * 1024;

/// A netlink message larger than the socket's send buffer is refused
/// (`emsgsize`), and a batch must go in one `sendto`: for a large batch
/// the buffer is raised to fit it, with `SO_SNDBUFFORCE` (root) or else
/// `SO_SNDBUF` (up to `net.core.wmem_max`); should neither fit it, the
/// send says `emsgsize`.
fn fit_send_buffer(fd: BorrowedFd<'_>, len: usize) {
    if len <= SMALL_BATCH {
        return;
    }
    let want = i32::try_from(len + 4096).unwrap_or(i32::MAX);
    if crate::sys::set_int_opt(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, want).is_err() {
        let _ = crate::sys::set_int_opt(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, want);
    }
}

/// The sequence number of each message of `request` (checked already by
/// `prepare_requests`).
fn sequence_numbers(request: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(seq) = sequence_number(&request[pos..]) {
        out.push(seq);
        let len = u32::from_ne_bytes([request[pos], request[pos + 1], request[pos + 2], request[pos + 3]]) as usize;
        pos += ((len + 3) & !3).max(NLMSG_HDRLEN);
        if pos >= request.len() {
            break;
        }
    }
    out
}

fn sequence_number(m: &[u8]) -> Option<u32> {
    let s = m.get(8..12)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::socket::netlink;
    use std::os::fd::AsFd;

    const NFT: u16 = 10 << 8;
    const NEWTABLE: u16 = NFT;
    const NEWCHAIN: u16 = NFT | 3;

    /// A message: header, `struct nfgenmsg` (`family`, version 0, res_id)
    /// and attributes.
    fn message(ty: u16, flags: u16, seq: u32, family: u8, res_id: u16, attrs: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + 4 + attrs.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&(flags | 1).to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[family, 0]);
        m.extend_from_slice(&res_id.to_be_bytes());
        m.extend_from_slice(attrs);
        m
    }

    /// A string attribute (type `ty`), padded.
    fn string(ty: u16, s: &str) -> Vec<u8> {
        let len = 4 + s.len() + 1;
        let mut a = Vec::new();
        a.extend_from_slice(&(len as u16).to_ne_bytes());
        a.extend_from_slice(&ty.to_ne_bytes());
        a.extend_from_slice(s.as_bytes());
        a.push(0);
        a.resize((len + 3) & !3, 0);
        a
    }

    fn batch(seq: u32, inner: &[Vec<u8>]) -> Vec<u8> {
        let ty = |t: i32| u16::try_from(t).expect("type");
        let mut b = message(ty(libc::NFNL_MSG_BATCH_BEGIN), 0, seq, 0, 10, &[]);
        for m in inner {
            b.extend_from_slice(m);
        }
        b.extend(message(ty(libc::NFNL_MSG_BATCH_END), 0, seq + 9, 0, 10, &[]));
        b
    }

    /// `run` on a thread of its own in a new network namespace.
    fn in_new_netns(run: impl FnOnce() + Send + 'static) {
        std::thread::spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
            run();
        })
        .join()
        .expect("test thread");
    }

    #[test]
    fn only_netfilter_batches_are_batches() {
        let b = batch(1, &[]);
        assert!(is_batch(libc::NETLINK_NETFILTER, &b));
        assert!(!is_batch(libc::NETLINK_ROUTE, &b));
        assert!(!is_batch(libc::NETLINK_NETFILTER, &message(NEWTABLE, 0, 1, 1, 0, &[])));
        assert!(!is_batch(libc::NETLINK_NETFILTER, &b[..8]));
        assert_eq!(sequence_numbers(&b), vec![1, 10]);
    }

    #[test]
    fn a_batch_gets_its_acks_and_failures_without_waiting() {
        in_new_netns(|| {
            let fd = netlink(libc::NETLINK_NETFILTER, 0).expect("netfilter socket");
            // A table (inet, "t"), acked: its ack alone.
            let table = message(NEWTABLE, 0x404, 2, 1, 0, &string(1, "t"));
            let replies = batch_on(fd.as_fd(), &batch(1, &[table])).expect("sent");
            assert_eq!(replies.len(), 1);
            assert_eq!(nlmsg_errno(&replies[0]), Some(0));
            assert_eq!(sequence_number(&replies[0]), Some(2));
            // Nothing acked and nothing wrong: no reply at all.
            let again = message(NEWTABLE, 0x400, 12, 1, 0, &string(1, "u"));
            assert_eq!(
                batch_on(fd.as_fd(), &batch(11, &[again])).expect("sent"),
                Vec::<Vec<u8>>::new()
            );
            // A chain in a table that is not there, not acked, then an
            // acked table: the chain's error and the table's ack.
            let mut attrs = string(1, "nope");
            attrs.extend(string(3, "c"));
            let chain = message(NEWCHAIN, 0x400, 22, 1, 0, &attrs);
            let table = message(NEWTABLE, 0x404, 23, 1, 0, &string(1, "v"));
            let replies = batch_on(fd.as_fd(), &batch(21, &[chain, table])).expect("sent");
            let answers: Vec<_> = replies.iter().map(|r| (sequence_number(r), nlmsg_errno(r))).collect();
            assert_eq!(answers, vec![(Some(22), Some(libc::ENOENT)), (Some(23), Some(0))]);
        });
    }

    #[test]
    fn a_batch_larger_than_the_send_buffer_goes_whole() {
        in_new_netns(|| {
            let fd = netlink(libc::NETLINK_NETFILTER, 0).expect("netfilter socket");
            // 3,000 tables of long names: about 800 KiB, four times the
            // send buffer a socket starts with.
            let tables: Vec<Vec<u8>> = (0..3000u32)
                .map(|i| {
                    let name = format!("{i:0>250}");
                    let flags = if i == 2999 { 0x404 } else { 0x400 };
                    message(NEWTABLE, flags, 100 + i, 1, 0, &string(1, &name))
                })
                .collect();
            let b = batch(99, &tables);
            assert!(b.len() > 4 * SMALL_BATCH);
            let replies = batch_on(fd.as_fd(), &b).expect("sent whole");
            assert_eq!(replies.len(), 1);
            assert_eq!(nlmsg_errno(&replies[0]), Some(0));
        });
    }
}
