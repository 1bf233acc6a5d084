//! Dropping privileges at start: `PR_SET_NO_NEW_PRIVS`, and every
//! capability but those namespace and socket work needs, from the bounding,
//! permitted, effective and inheritable sets. Capabilities are per thread
//! and inherited by threads created later, so this runs first thing in
//! `main`, before any thread exists.

use caps::{CapSet, Capability, CapsHashSet};
use nix::errno::Errno;

/// The capabilities linx keeps (when it has them at all): setns and mount
/// namespaces (sys_admin, sys_chroot), other users' /proc/PID/ns files
/// (sys_ptrace), net sysctls and netlink (net_admin), packet and raw
/// sockets (net_raw), namespace files not owned by root (dac_*).
pub const KEEP: [Capability; 7] = [
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_NET_ADMIN,
    Capability::CAP_NET_RAW,
    Capability::CAP_SYS_ADMIN,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_SYS_PTRACE,
];

/// Why privileges could not be dropped.
#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    #[error("no_new_privs: {0}")]
    NoNewPrivs(Errno),
    #[error("{0}")]
    Caps(#[from] caps::errors::CapsError),
}

/// Set no_new_privs and keep only the capabilities in [`KEEP`]
/// (`CAP_SETPCAP` is used to shrink the bounding set, then dropped too).
pub fn drop_privileges() -> Result<(), PrivError> {
    nix::sys::prctl::set_no_new_privs().map_err(PrivError::NoNewPrivs)?;
    let keep: CapsHashSet = KEEP.into_iter().collect();
    // The bounding set can only shrink with CAP_SETPCAP in effect.
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP)? {
        for cap in caps::runtime::thread_all_supported() {
            if !keep.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap)?;
            }
        }
    }
    let kept: CapsHashSet = caps::read(None, CapSet::Permitted)?
        .intersection(&keep)
        .copied()
        .collect();
    caps::clear(None, CapSet::Inheritable)?;
    caps::set(None, CapSet::Effective, &kept)?;
    caps::set(None, CapSet::Permitted, &kept)?;
    Ok(())
}

/// Whether this thread has `CAP_SYS_ADMIN` in effect: with it, `setns`
/// into any network namespace works (as root's does); without it, only
/// into those whose owning user namespace was entered first.
pub fn has_sys_admin() -> bool {
    caps::has_cap(None, CapSet::Effective, Capability::CAP_SYS_ADMIN).unwrap_or(false)
}
