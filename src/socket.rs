//! Sockets created inside a target's network namespace.
//!
//! The worker thread that runs these is already in the target's net
//! namespace (a socket belongs to the namespace it was created in, and needs
//! no other), so creating it here is all it takes. Every socket is
//! close-on-exec; the port's copy is closed once it has been sent.

use crate::error::{OpError, Result, Stage};
use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SOL_NETLINK`.
const SOL_NETLINK: libc::c_int = 270;
/// `NETLINK_EXT_ACK`: error messages carry the kernel's extended-ack text.
const NETLINK_EXT_ACK: libc::c_int = 11;

/// `socket(domain, type | SOCK_CLOEXEC, protocol)`.
pub fn open(domain: i32, ty: i32, protocol: i32) -> Result<OwnedFd> {
    if ty & !0xf != 0 {
        // Flags such as SOCK_NONBLOCK are ours to choose, not the caller's.
        return Err(OpError::badarg("type"));
    }
    // SAFETY: plain syscall with integer arguments; returns a new fd or -1.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(OpError::errno(Stage::Socket, Errno::last()));
    }
    // SAFETY: a non-negative return is a descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A netlink socket: extended acks on, bound with `nl_pid` 0 (the kernel
/// picks a port id) and the given multicast group mask.
pub fn netlink(protocol: i32, groups: u32) -> Result<OwnedFd> {
    let fd = open(libc::AF_NETLINK, libc::SOCK_RAW, protocol)?;
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the duration of the call, and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            SOL_NETLINK,
            NETLINK_EXT_ACK,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(OpError::errno(Stage::Setsockopt, Errno::last()));
    }
    // SAFETY: sockaddr_nl is plain data; all-zero is valid.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_pid = 0;
    addr.nl_groups = groups;
    // SAFETY: `addr` is a valid sockaddr_nl and its size is passed.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(OpError::errno(Stage::Bind, Errno::last()));
    }
    Ok(fd)
}
