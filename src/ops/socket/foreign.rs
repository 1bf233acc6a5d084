//! Binding a netlink socket that belongs to the node, not to this
//! program: the descriptor number is the node's, so this program takes a
//! copy of it with `pidfd_getfd(2)` (it keeps `CAP_SYS_PTRACE`), binds the
//! copy (which binds the one socket both descriptors name) and closes it.
//! The node keeps its descriptor and owns it as before.

use crate::error::{OpError, Result, Stage};
use crate::sys;
use nix::sys::socket::{bind, NetlinkAddr};
use std::os::fd::{AsFd, AsRawFd};

/// Bind descriptor `fd` of process `node` with `nl_pid = 0` and the
/// multicast group mask `groups`. Every failure is `{bind, Errno}`: the
/// node's process gone (`esrch`), a descriptor it does not have (`ebadf`),
/// one that is not a socket (`enotsock`), the kernel's refusal of the bind.
pub fn bind_in_node(node: i32, fd: i32, groups: u32) -> Result<()> {
    let err = |e| OpError::errno(Stage::Bind, e);
    let pidfd = sys::pidfd_open(node).map_err(err)?;
    let copy = sys::pidfd_getfd(pidfd.as_fd(), fd).map_err(err)?;
    bind(copy.as_raw_fd(), &NetlinkAddr::new(0, groups)).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn binds_a_socket_of_a_process_with_its_groups() {
        let me = std::process::id() as i32;
        let own = crate::ops::socket::open(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE).unwrap();
        // RTMGRP_LINK: group 1.
        bind_in_node(me, own.as_raw_fd(), 1).unwrap();
        let addr: NetlinkAddr = nix::sys::socket::getsockname(own.as_raw_fd()).unwrap();
        assert_eq!(addr.groups(), 1);
        assert_ne!(addr.pid(), 0, "bound: the kernel chose a port id");
    }

    #[test]
    fn refuses_what_is_not_a_netlink_socket() {
        let me = std::process::id() as i32;
        assert_eq!(bind_in_node(me, -1, 0), Err(OpError::errno(Stage::Bind, Errno::EBADF)));
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(
            bind_in_node(me, file.as_raw_fd(), 0),
            Err(OpError::errno(Stage::Bind, Errno::ENOTSOCK))
        );
    }
}
