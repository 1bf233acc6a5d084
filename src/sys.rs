//! The thin layer over the syscalls linx needs and nix does not wrap the way
//! we want: `openat2`, `pidfd_open`, `pidfd_send_signal`, `NS_GET_NSTYPE`,
//! `fstatfs`. Everything takes `BorrowedFd` and returns `OwnedFd`; every
//! descriptor is created close-on-exec.

use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `_IO(0xb7, 0x3)`: ask an nsfs file which kind of namespace it is.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// `openat2(dir, path, flags | O_CLOEXEC, resolve)`.
pub fn openat2(dir: BorrowedFd<'_>, path: &CStr, flags: i32, resolve: u64) -> Result<OwnedFd, Errno> {
    // SAFETY: open_how is a plain C struct; all-zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    loop {
        // SAFETY: `path` is NUL-terminated, `how` lives across the call and
        // its size is passed; the kernel returns a new descriptor or -1.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if rc >= 0 {
            // SAFETY: a non-negative return is a descriptor we now own.
            return Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) });
        }
        match Errno::last() {
            Errno::EINTR | Errno::EAGAIN => continue,
            e => return Err(e),
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
    // SAFETY: statfs is plain data; all-zero is valid and fstatfs fills it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer for the duration of the call.
    let rc = unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) };
    if rc < 0 {
        return Err(Errno::last());
    }
    Ok(st.f_type == libc::NSFS_MAGIC)
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
