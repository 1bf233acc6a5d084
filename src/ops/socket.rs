//! Sockets created inside a target's network namespace.
//!
//! The worker thread that runs these is already in the target's net
//! namespace (a socket belongs to the namespace it was created in, and needs
//! no other), so creating it here is all it takes. Every socket is
//! close-on-exec; the port's copy is closed once it has been sent.

use crate::error::{OpError, Result, Stage};
use crate::sys;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{bind, recv, sendto, MsgFlags, NetlinkAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod foreign;
mod kept;
mod nfbatch;

pub use foreign::bind_in_node;
pub use kept::{Kept, KEPT_IDLE};
pub use nfbatch::{batch_on, is_batch};

/// `socket(domain, type | SOCK_CLOEXEC, protocol)`.
pub fn open(domain: i32, ty: i32, protocol: i32) -> Result<OwnedFd> {
    if ty & !0xf != 0 {
        // Flags such as SOCK_NONBLOCK are ours to choose, not the caller's.
        return Err(OpError::badarg("type"));
    }
    sys::socket(domain, ty, protocol).map_err(|e| OpError::errno(Stage::Socket, e))
}

/// A netlink socket: extended acks on, bound with `nl_pid` 0 (the kernel
/// picks a port id) and the given multicast group mask.
pub fn netlink(protocol: i32, groups: u32) -> Result<OwnedFd> {
    let fd = open(libc::AF_NETLINK, libc::SOCK_RAW, protocol)?;
    // NETLINK_EXT_ACK: error messages carry the kernel's extended-ack text.
    sys::set_int_opt(fd.as_fd(), libc::SOL_NETLINK, libc::NETLINK_EXT_ACK, 1)
        .map_err(|e| OpError::errno(Stage::Setsockopt, e))?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups)).map_err(|e| OpError::errno(Stage::Bind, e))?;
    Ok(fd)
}

/// `NETLINK_GET_STRICT_CHK` (linux/netlink.h), which libc does not name
/// on every target.
const NETLINK_GET_STRICT_CHK: i32 = 12;

/// A netlink socket as [`netlink`] makes it (no groups), with strict
/// checking of get and dump requests on when the kernel has it (4.20 and
/// later): the kernel then refuses a dump whose header has stray nonzero
/// fields or attributes it does not filter by, and filters an rtnetlink
/// dump by the header fields and attributes it knows (a route dump by
/// table, device, protocol and type). An older kernel gives a socket
/// without it (`ENOPROTOOPT`): the caller filters what the kernel did not.
pub fn netlink_strict(protocol: i32) -> Result<OwnedFd> {
    let fd = netlink(protocol, 0)?;
    match sys::set_int_opt(fd.as_fd(), libc::SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1) {
        Ok(()) | Err(Errno::ENOPROTOOPT) => Ok(fd),
        Err(e) => Err(OpError::errno(Stage::Setsockopt, e)),
    }
}

/// How long [`netlink_call`] waits for the kernel's replies, in total.
pub const NETLINK_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Most reply bytes [`netlink_call`] collects.
pub const NETLINK_CALL_MAX: usize = 16 << 20;

/// `NLMSG_HDRLEN`: the header size, a multiple of 4 already. Message
/// types and flags are compared as `c_int`, the type of libc's constants.
const NLMSG_HDRLEN: usize = std::mem::size_of::<libc::nlmsghdr>();

/// Send `msg` (one or more netlink messages, headers in host byte order)
/// from a fresh netlink socket of `protocol` and return every reply
/// message, one buffer each, until each request is answered: a multipart
/// reply by its `NLMSG_DONE`, any request by an `NLMSG_ERROR` (an error,
/// or the ack, with its extended-ack attributes), and a request without
/// `NLM_F_ACK` by a single reply that is not multipart. `nlmsg_pid` is set
/// to 0 in every request; flags and sequence numbers are the caller's.
/// Gives up after [`NETLINK_CALL_TIMEOUT`] with `{recv, etimedout}` and
/// beyond [`NETLINK_CALL_MAX`] bytes with `{recv, emsgsize}`.
pub fn netlink_call(protocol: i32, msg: &[u8]) -> Result<Vec<Vec<u8>>> {
    netlink_call_parts(protocol, msg, 0, |_| false)
}

/// [`netlink_call`], offering the replies in parts while more are still
/// to come: each time the replies not yet taken reach `part_bytes` (0:
/// never), `take_part` is given them; when it returns true they are its,
/// and only the replies after them come back at the end. The limits count
/// every reply, taken or not.
pub fn netlink_call_parts<F>(protocol: i32, msg: &[u8], part_bytes: usize, take_part: F) -> Result<Vec<Vec<u8>>>
where
    F: FnMut(&[Vec<u8>]) -> bool,
{
    let fd = netlink(protocol, 0)?;
    netlink_call_on(fd.as_fd(), msg, part_bytes, take_part)
}

/// [`netlink_call_parts`] on a socket of the caller's (one that
/// [`netlink`] made with no groups). After an error the socket may still
/// hold replies: close it rather than use it again.
pub fn netlink_call_on<F>(fd: BorrowedFd<'_>, msg: &[u8], part_bytes: usize, mut take_part: F) -> Result<Vec<Vec<u8>>>
where
    F: FnMut(&[Vec<u8>]) -> bool,
{
    let mut owed = send(fd, msg)?;
    let deadline = owed.deadline;
    let mut buf = vec![0u8; 32 * 1024];
    while !owed.read(fd, &mut buf, deadline)? {
        if part_bytes > 0 && owed.untaken >= part_bytes && take_part(&owed.replies) {
            owed.replies.clear();
            owed.untaken = 0;
        }
    }
    Ok(owed.replies)
}

/// Send the request messages of `msg` (see [`netlink_call`]) on `fd`:
/// what they are owed.
fn send(fd: BorrowedFd<'_>, msg: &[u8]) -> Result<Owed> {
    let (request, acks) = prepare_requests(msg)?;
    send_whole(fd, &request)?;
    Ok(Owed {
        acks,
        answered: 0,
        replies: Vec::new(),
        ends: Vec::new(),
        total: 0,
        untaken: 0,
        deadline: Instant::now() + NETLINK_CALL_TIMEOUT,
    })
}

/// Send `request` to the kernel in one `sendto`.
fn send_whole(fd: BorrowedFd<'_>, request: &[u8]) -> Result<()> {
    let kernel = NetlinkAddr::new(0, 0);
    loop {
        match sendto(fd.as_raw_fd(), request, &kernel, MsgFlags::empty()) {
            Ok(n) if n == request.len() => return Ok(()),
            Ok(_) => return Err(OpError::errno(Stage::Send, Errno::EMSGSIZE)),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OpError::errno(Stage::Send, e)),
        }
    }
}

/// The replies owed to requests sent (see [`netlink_call`] for when each
/// is answered), and those received so far.
#[derive(Debug)]
pub struct Owed {
    /// Per request, whether it asked for an ack; how many are answered.
    acks: Vec<bool>,
    answered: usize,
    replies: Vec<Vec<u8>>,
    /// How many replies there were when each request was answered.
    ends: Vec<usize>,
    /// Bytes of every reply received, and of those not yet taken in parts.
    total: usize,
    untaken: usize,
    deadline: Instant,
}

impl Owed {
    /// Wait for the rest of the replies (up to [`NETLINK_CALL_TIMEOUT`]
    /// from the send).
    pub fn finish(mut self, fd: BorrowedFd<'_>) -> Result<Vec<Vec<u8>>> {
        let deadline = self.deadline;
        let mut buf = vec![0u8; 32 * 1024];
        while !self.read(fd, &mut buf, deadline)? {}
        Ok(self.replies)
    }

    /// Read one datagram (waiting until `deadline`); whether every request
    /// is answered now.
    fn read(&mut self, fd: BorrowedFd<'_>, buf: &mut Vec<u8>, deadline: Instant) -> Result<bool> {
        let n = recv_datagram(fd, buf, deadline, false)?;
        self.take(&buf[..n])
    }

    /// [`Owed::read`] into a buffer that holds any datagram that can come
    /// (see [`change_on`]): one `recv` a datagram, no peek first.
    fn read_whole(&mut self, fd: BorrowedFd<'_>, buf: &mut Vec<u8>, deadline: Instant) -> Result<bool> {
        let n = recv_datagram(fd, buf, deadline, true)?;
        self.take(&buf[..n])
    }

    /// Count the messages of one datagram; whether every request is
    /// answered now.
    fn take(&mut self, datagram: &[u8]) -> Result<bool> {
        for m in split_messages(datagram)? {
            self.total += m.len();
            self.untaken += m.len();
            if self.total > NETLINK_CALL_MAX {
                return Err(OpError::errno(Stage::Recv, Errno::EMSGSIZE));
            }
            let ty = libc::c_int::from(u16::from_ne_bytes([m[4], m[5]]));
            let flags = libc::c_int::from(u16::from_ne_bytes([m[6], m[7]]));
            if ty == libc::NLMSG_NOOP {
                continue;
            }
            self.replies.push(m.to_vec());
            let Some(&wants_ack) = self.acks.get(self.answered) else {
                continue;
            };
            let done = match ty {
                libc::NLMSG_ERROR | libc::NLMSG_DONE => true,
                _ => flags & libc::NLM_F_MULTI == 0 && !wants_ack,
            };
            if done {
                self.answered += 1;
                self.ends.push(self.replies.len());
            }
        }
        Ok(self.answered == self.acks.len())
    }
}

/// A socket a worker made in its namespace for the front end, which sends
/// single changes on it itself (see [`call_at_once`]): one user at a time.
#[derive(Debug)]
pub struct Shared {
    fd: OwnedFd,
    busy: AtomicBool,
}

impl Shared {
    pub fn new(fd: OwnedFd) -> Self {
        Shared {
            fd,
            busy: AtomicBool::new(false),
        }
    }

    /// The socket, if nobody uses it: the caller must [`Shared::release`] it.
    pub fn take(&self) -> Option<BorrowedFd<'_>> {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| self.fd.as_fd())
    }

    /// The socket, for the one that took it.
    pub fn held(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }
}

/// Whether `msg` is one request that asks for an ack and is no dump: a
/// change, which rtnetlink carries out and answers within the send.
pub fn at_once(msg: &[u8]) -> bool {
    let Some(hdr) = msg.get(..NLMSG_HDRLEN) else {
        return false;
    };
    let len = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
    let flags = libc::c_int::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
    len >= NLMSG_HDRLEN
        && len <= msg.len()
        && align4(len) >= msg.len()
        && flags & libc::NLM_F_ACK != 0
        && flags & libc::NLM_F_DUMP != libc::NLM_F_DUMP
}

/// Send one change ([`at_once`]) on `fd` and take the replies that are
/// there already, without waiting: rtnetlink answers within the send, so
/// they all are, unless the kernel deferred the work. `Ok(Err(owed))`:
/// what is still owed, for a thread that may wait ([`Owed::finish`]).
pub fn call_at_once(fd: BorrowedFd<'_>, msg: &[u8]) -> Result<std::result::Result<Vec<Vec<u8>>, Owed>> {
    let mut owed = send(fd, msg)?;
    let mut buf = vec![0u8; 4096];
    loop {
        // A deadline already past: only what is there.
        match owed.read(fd, &mut buf, Instant::now()) {
            Ok(true) => return Ok(Ok(owed.replies)),
            Ok(false) => continue,
            Err(e) if e == OpError::errno(Stage::Recv, Errno::ETIMEDOUT) => return Ok(Err(owed)),
            Err(e) => return Err(e),
        }
    }
}

/// What one change sent by [`change_on`] got back.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Its ack, with no error, and nothing else.
    Acked,
    /// Every message that came for it: an error, or more than an ack.
    Replies(Vec<Vec<u8>>),
}

/// Room a change's answer needs in the receive buffer besides the
/// request itself, which an error echoes: the error header and the
/// extended ack's attributes (a message, an offset, a policy).
const ANSWER_ROOM: usize = 64 * 1024;

/// Send `msg` on `fd` and wait for its replies, as [`netlink_call_on`]
/// does; for one change ([`at_once`]), whose answer is its ack or error
/// and so fits in the request's size and `ANSWER_ROOM`, read each
/// datagram with one `recv` into `buf` (kept by the caller from one
/// change to the next), and say [`Answer::Acked`] for a clean ack.
pub fn change_on(fd: BorrowedFd<'_>, msg: &[u8], buf: &mut Vec<u8>) -> Result<Answer> {
    if !at_once(msg) {
        return netlink_call_on(fd, msg, 0, |_| false).map(Answer::Replies);
    }
    changes_on(fd, &[msg], buf)?
        .pop()
        .ok_or(OpError::errno(Stage::Recv, Errno::EBADMSG))
}

/// [`change_on`] for several changes ([`at_once`] each) in one `sendto`:
/// the kernel carries them out one after another and answers each, so
/// one send serves them all. The answer of each, in order. Unlike a
/// batch sent one message at a time, every change is made even when one
/// before it fails.
pub fn changes_on<M: AsRef<[u8]>>(fd: BorrowedFd<'_>, msgs: &[M], buf: &mut Vec<u8>) -> Result<Vec<Answer>> {
    if !msgs.iter().all(|m| at_once(m.as_ref())) {
        return Err(OpError::badarg("msg"));
    }
    let mut joined = Vec::with_capacity(msgs.iter().map(|m| align4(m.as_ref().len())).sum());
    for m in msgs {
        joined.extend_from_slice(m.as_ref());
        joined.resize(align4(joined.len()), 0);
    }
    let mut owed = send(fd, &joined)?;
    let room = msgs.iter().map(|m| m.as_ref().len()).max().unwrap_or(0) + ANSWER_ROOM;
    if buf.len() < room {
        buf.resize(room, 0);
    }
    let deadline = owed.deadline;
    while !owed.read_whole(fd, buf, deadline)? {}
    let mut replies = owed.replies.into_iter();
    let mut start = 0;
    Ok(msgs
        .iter()
        .zip(owed.ends)
        .map(|(msg, end)| {
            let mine: Vec<Vec<u8>> = replies.by_ref().take(end - start).collect();
            start = end;
            answer(msg.as_ref(), mine)
        })
        .collect())
}

/// The answer to change `msg` from the replies that came for it.
fn answer(msg: &[u8], replies: Vec<Vec<u8>>) -> Answer {
    match replies.as_slice() {
        [ack] if nlmsg_errno(ack) == Some(0) && ack.get(8..12) == msg.get(8..12) => Answer::Acked,
        _ => Answer::Replies(replies),
    }
}

/// The error of an `NLMSG_ERROR` message as a positive errno (0: an
/// ack); `None` for any other message.
pub fn nlmsg_errno(m: &[u8]) -> Option<i32> {
    let ty = libc::c_int::from(u16::from_ne_bytes([*m.get(4)?, *m.get(5)?]));
    if ty != libc::NLMSG_ERROR {
        return None;
    }
    let e = m.get(NLMSG_HDRLEN..NLMSG_HDRLEN + 4)?;
    Some(i32::from_ne_bytes([e[0], e[1], e[2], e[3]]).saturating_neg())
}

/// Check the request messages and copy them with `nlmsg_pid` 0; also
/// return, per message, whether it asks for an ack.
fn prepare_requests(msg: &[u8]) -> Result<(Vec<u8>, Vec<bool>)> {
    let bad = || OpError::badarg("msg");
    if msg.len() < NLMSG_HDRLEN || msg.len() > NETLINK_CALL_MAX {
        return Err(bad());
    }
    let mut out = msg.to_vec();
    let mut acks = Vec::new();
    let mut pos = 0;
    while pos < out.len() {
        let hdr = out.get(pos..pos + NLMSG_HDRLEN).ok_or_else(bad)?;
        let len = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
        if len < NLMSG_HDRLEN || len > out.len() - pos {
            return Err(bad());
        }
        let flags = libc::c_int::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
        acks.push(flags & libc::NLM_F_ACK != 0);
        out[pos + 12..pos + 16].copy_from_slice(&0u32.to_ne_bytes());
        pos += align4(len).min(out.len() - pos);
    }
    Ok((out, acks))
}

/// The messages of one datagram, each without its alignment padding.
fn split_messages(data: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while data.len() - pos >= NLMSG_HDRLEN {
        let h = &data[pos..pos + 4];
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < NLMSG_HDRLEN || len > data.len() - pos {
            return Err(OpError::errno(Stage::Recv, Errno::EBADMSG));
        }
        out.push(&data[pos..pos + len]);
        pos += align4(len).min(data.len() - pos);
    }
    Ok(out)
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Wait (until `deadline`) for one datagram and read all of it, growing
/// `buf` when the datagram is larger (`whole`: `buf` holds any datagram
/// that can come, and a larger one is `{recv, emsgsize}`). Returns its
/// length. A dump's next datagram is usually there already: `poll` only
/// when none is.
fn recv_datagram(fd: BorrowedFd<'_>, buf: &mut Vec<u8>, deadline: Instant, whole: bool) -> Result<usize> {
    let recv_err = |e| OpError::errno(Stage::Recv, e);
    loop {
        if whole {
            // The buffer holds any datagram that can come: read it at once.
            match recv(fd.as_raw_fd(), buf, MsgFlags::MSG_TRUNC | MsgFlags::MSG_DONTWAIT) {
                Ok(n) if n > buf.len() => return Err(recv_err(Errno::EMSGSIZE)),
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {
                    wait_readable(fd, deadline)?;
                    continue;
                }
                Err(e) => return Err(recv_err(e)),
            }
        }
        // Learn the datagram's size first (a peek that copies nothing), so
        // that nothing is cut off.
        let peek = MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC | MsgFlags::MSG_DONTWAIT;
        let size = match recv(fd.as_raw_fd(), &mut [], peek) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                wait_readable(fd, deadline)?;
                continue;
            }
            Err(e) => return Err(recv_err(e)),
        };
        if size > NETLINK_CALL_MAX {
            return Err(recv_err(Errno::EMSGSIZE));
        }
        if size > buf.len() {
            buf.resize(size, 0);
        }
        match recv(fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(e) => return Err(recv_err(e)),
        }
    }
}

/// Wait until `fd` is readable, or `{recv, etimedout}` at `deadline`.
fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(OpError::errno(Stage::Recv, Errno::ETIMEDOUT));
        }
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(()),
            Err(e) => return Err(OpError::errno(Stage::Recv, e)),
        }
    }
}

#[cfg(test)]
mod tests;
