//! The syscall layer, the only place with `unsafe`: syscalls nix does not
//! wrap (`pidfd_open`, `pidfd_send_signal`, `NS_GET_NSTYPE`, sockets of any
//! protocol number, integer socket options), and nix's own where a raw
//! descriptor must become an `OwnedFd` (`openat2`, `SCM_RIGHTS`). Everything
//! takes `BorrowedFd` and returns `OwnedFd`; every descriptor is created
//! close-on-exec. [`caps`] drops privileges at start.

pub mod caps;

use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Have the kernel send this process `SIGKILL` when the thread that
/// started it ends. Returns false when `parent` is no longer the parent
/// (it ended, and the process was given to another, before the setting
/// took effect). A change of credentials (entering a user namespace
/// among them) clears the setting: make it after any.
pub fn die_with_parent(parent: i32) -> Result<bool, Errno> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    Ok(nix::unistd::getppid().as_raw() == parent)
}

/// The descriptor of an open directory stream, for opening files
/// beneath it while the stream lives.
pub fn dir_fd(dir: &nix::dir::Dir) -> BorrowedFd<'_> {
    // SAFETY: the descriptor is the directory stream's own and stays open
    // as long as `dir`, which the returned borrow cannot outlive.
    unsafe { BorrowedFd::borrow_raw(dir.as_raw_fd()) }
}

/// This process's parent.
pub fn parent() -> i32 {
    nix::unistd::getppid().as_raw()
}

/// Whether the calling thread is the process's first thread, which lives
/// as long as the process does.
pub fn on_main_thread() -> bool {
    nix::unistd::gettid() == nix::unistd::getpid()
}

/// `_IO(0xb7, 0x3)`: ask an nsfs file which kind of namespace it is.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// `openat2(dir, path, flags | O_CLOEXEC, resolve)`.
pub fn openat2(dir: BorrowedFd<'_>, path: &CStr, flags: i32, resolve: u64) -> Result<OwnedFd, Errno> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
    let how = OpenHow::new()
        .flags(OFlag::from_bits_retain(flags | libc::O_CLOEXEC))
        .resolve(ResolveFlag::from_bits_retain(resolve));
    loop {
        match nix::fcntl::openat2(dir.as_raw_fd(), path, how) {
            // SAFETY: openat2 returned a new descriptor, which we now own.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `open(path, flags | O_CLOEXEC)` in the calling thread's namespaces.
pub fn open(path: &CStr, flags: i32) -> Result<OwnedFd, Errno> {
    loop {
        // SAFETY: `path` is NUL-terminated; the kernel returns a new descriptor or -1.
        let rc = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
        if rc >= 0 {
            // SAFETY: a non-negative return is a descriptor we now own.
            return Ok(unsafe { OwnedFd::from_raw_fd(rc) });
        }
        match Errno::last() {
            Errno::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// `pidfd_open(pid, 0)`: a handle that keeps naming this process even if its
/// pid is reused.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with integer arguments.
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if rc < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a non-negative return is a descriptor we now own (pidfds are CLOEXEC).
    Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) })
}

/// `pidfd_getfd(pidfd, fd, 0)`: a copy, in this process, of descriptor
/// `fd` of the process behind `pidfd` (it needs `CAP_SYS_PTRACE` or ptrace
/// rights over that process). The copy is close-on-exec.
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, fd: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with a borrowed pidfd and integer arguments.
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if rc < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a non-negative return is a new descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) })
}

/// Signal 0 through a pidfd: `Ok` while the process has not been reaped.
/// `EPERM` (a process we may not signal, having dropped `CAP_KILL`) means
/// it exists.
pub fn pidfd_alive(pidfd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: signal 0 with a null siginfo only checks for existence.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    match Errno::result(rc) {
        Ok(_) | Err(Errno::EPERM) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The `CLONE_NEW*` type of the namespace an nsfs descriptor refers to.
pub fn ns_type(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the type or -1.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

/// Whether the descriptor lives on nsfs, the file system of namespace files.
pub fn is_nsfs(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let st = nix::sys::statfs::fstatfs(fd)?;
    Ok(st.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// `(st_dev, st_ino, st_mode)` of a descriptor.
pub fn fstat_id(fd: BorrowedFd<'_>) -> Result<(u64, u64, u32), Errno> {
    let st = nix::sys::stat::fstat(fd.as_raw_fd())?;
    Ok((st.st_dev, st.st_ino, st.st_mode))
}

/// `read(2)` into a buffer, retrying on EINTR.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match nix::unistd::read(fd.as_raw_fd(), buf) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `pread(2)` at an offset, retrying on EINTR.
pub fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: i64) -> Result<usize, Errno> {
    loop {
        match nix::sys::uio::pread(fd, buf, offset) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `write(2)` of a whole buffer in one call, retrying on EINTR.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    loop {
        match nix::unistd::write(fd, buf) {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `socket(domain, ty | SOCK_CLOEXEC, protocol)` with numbers as callers
/// give them (nix names only the protocols it knows).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with integer arguments; returns a new fd or -1.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a non-negative return is a descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `ioctl(fd, SIOCGIFINDEX)`: the index of the link named `name` in the
/// network namespace of socket `fd`. What `if_nametoindex` does, without
/// the socket it opens and closes on every call (which costs several times
/// the look-up itself). `ENODEV` for a name that is not 1 to `IFNAMSIZ - 1`
/// bytes without NUL, as for one no link has.
pub fn if_index_on(fd: BorrowedFd<'_>, name: &[u8]) -> Result<u32, Errno> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(&0) {
        return Err(Errno::ENODEV);
    }
    // A `struct ifreq` as bytes: the name (NUL-padded), then the union
    // whose first member the kernel sets to the index.
    let mut req = [0u8; std::mem::size_of::<libc::ifreq>()];
    req[..name.len()].copy_from_slice(name);
    // SAFETY: `req` is as large as a `struct ifreq`, holds a NUL-terminated
    // name, and lives for the call; the kernel copies it in and out.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFINDEX, req.as_mut_ptr()) };
    if rc < 0 {
        return Err(Errno::last());
    }
    let at = libc::IFNAMSIZ;
    let index = i32::from_ne_bytes([req[at], req[at + 1], req[at + 2], req[at + 3]]);
    u32::try_from(index).map_err(|_| Errno::ENODEV)
}

/// `setsockopt(fd, level, name, &value, sizeof(int))` for an integer option
/// nix has no name for (`NETLINK_EXT_ACK`, say).
pub fn set_int_opt(fd: BorrowedFd<'_>, level: i32, name: i32, value: i32) -> Result<(), Errno> {
    // SAFETY: `value` is a valid c_int for the duration of the call, and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    Errno::result(rc).map(drop)
}

/// Receive one message and the first descriptor of its `SCM_RIGHTS`
/// (close-on-exec; any further ones are closed). Returns the payload
/// length, 0 at the end of the stream.
pub fn recv_fd(sock: BorrowedFd<'_>, payload: &mut [u8]) -> Result<(usize, Option<OwnedFd>), Errno> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut iov = [std::io::IoSliceMut::new(payload)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for raw in fds {
                // SAFETY: SCM_RIGHTS gave us these descriptors; we own them now.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                if fd.is_none() {
                    fd = Some(owned);
                }
            }
        }
    }
    Ok((msg.bytes, fd))
}

/// Take ownership of a descriptor this process inherited at `fd` from its
/// parent (a namespace helper's files). Refused (`EBADF`) unless it is
/// open, and for the standard streams.
pub fn take_inherited_fd(fd: i32) -> Result<OwnedFd, Errno> {
    if fd <= 2 {
        return Err(Errno::EBADF);
    }
    // SAFETY: F_GETFD only reads the descriptor's flags.
    Errno::result(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    // SAFETY: the parent placed this descriptor for us before exec, and
    // nothing in this process has taken it: it is ours to own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Arrange for `cmd`'s child to find `fds` at `first`, `first + 1`, ...
/// (without close-on-exec), whatever numbers they have here.
pub fn place_fds(cmd: &mut std::process::Command, fds: Vec<std::os::fd::RawFd>, first: i32) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls dup2 and close, which are async-signal-safe. Sources are first
    // moved above every target number so that no dup2 overwrites a source
    // still to be copied.
    unsafe {
        cmd.pre_exec(move || {
            let high = 1000;
            for (i, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, high + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for i in 0..fds.len() {
                if libc::dup2(high + i as i32, first + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(high + i as i32);
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;
    use std::os::fd::AsFd;

    #[test]
    fn if_index_on_finds_loopback_and_refuses_bad_names() {
        let fd = socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0).expect("socket");
        // The loopback device is the first of every network namespace.
        assert_eq!(if_index_on(fd.as_fd(), b"lo"), Ok(1));
        assert_eq!(if_index_on(fd.as_fd(), b"linx-no-such0"), Err(Errno::ENODEV));
        for bad in [&b""[..], b"l\0", b"0123456789abcdef"] {
            assert_eq!(if_index_on(fd.as_fd(), bad), Err(Errno::ENODEV), "{bad:?}");
        }
    }
}
