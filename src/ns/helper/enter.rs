//! The helper's own side: a process started as `linx_port --ns-helper`
//! enters the namespaces its parent handed it, while it still has one
//! thread, before it serves requests like a port.
//!
//! Its arguments, as [`Helpers`](super::Helpers) writes them: `FD:TYPE` for
//! each namespace file (entered in order), `chan:FD` for its fd channel and,
//! when given, `parent:PID` for the process to end with.

use crate::ops::fdchan::FdChan;
use crate::sys;
use nix::errno::Errno;
use nix::sched::CloneFlags;

/// The helper side: enter the namespaces given as `FD:TYPE` arguments, in
/// order, while this process still has one thread. Returns the fd channel
/// and the process to end with (`parent:PID`), if given.
/// On failure the caller exits with the errno as its status.
pub fn enter_from_args(args: &[String]) -> Result<Entered, Errno> {
    let mut chan = None;
    let mut parent = None;
    let mut entered_mount = false;
    for arg in args {
        let (a, b) = arg.split_once(':').ok_or(Errno::EINVAL)?;
        if a == "chan" {
            let fd: i32 = b.parse().map_err(|_| Errno::EINVAL)?;
            chan = Some(FdChan::from_fd(sys::take_inherited_fd(fd)?));
            continue;
        }
        if a == "parent" {
            parent = Some(b.parse().map_err(|_| Errno::EINVAL)?);
            continue;
        }
        let fd: i32 = a.parse().map_err(|_| Errno::EINVAL)?;
        let kind: i32 = b.parse().map_err(|_| Errno::EINVAL)?;
        let owned = sys::take_inherited_fd(fd)?;
        let flags = CloneFlags::from_bits_truncate(kind);
        if flags == CloneFlags::CLONE_NEWNS && !entered_mount {
            nix::sched::unshare(CloneFlags::CLONE_FS)?;
            entered_mount = true;
        }
        nix::sched::setns(&owned, flags)?;
    }
    Ok(Entered {
        chan: chan.ok_or(Errno::EINVAL)?,
        parent,
    })
}

/// A helper inside its namespaces.
pub struct Entered {
    /// Its channel for descriptors.
    pub chan: FdChan,
    /// The process to end with (`parent:PID`): given when the helper was
    /// started by the program's first thread, whose end is the program's.
    /// One started by another thread could outlive that thread, and then
    /// lives on until its input ends.
    pub parent: Option<i32>,
}
