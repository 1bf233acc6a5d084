//! Dropping privileges at start: `PR_SET_NO_NEW_PRIVS`, and every
//! capability but those namespace and socket work needs, from the bounding,
//! permitted, effective and inheritable sets. Capabilities are per thread
//! and inherited by threads created later, so this runs first thing in
//! `main`, before any thread exists.

use nix::errno::Errno;

// Capability numbers (linux/capability.h).
const CAP_DAC_OVERRIDE: u32 = 1;
const CAP_DAC_READ_SEARCH: u32 = 2;
const CAP_SETPCAP: u32 = 8;
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_CHROOT: u32 = 18;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;

/// The capabilities linx keeps (when it has them at all): setns and mount
/// namespaces (sys_admin, sys_chroot), other users' /proc/PID/ns files
/// (sys_ptrace), net sysctls and netlink (net_admin), packet and raw
/// sockets (net_raw), namespace files not owned by root (dac_*).
pub const KEEP: [(u32, &str); 7] = [
    (CAP_DAC_OVERRIDE, "cap_dac_override"),
    (CAP_DAC_READ_SEARCH, "cap_dac_read_search"),
    (CAP_NET_ADMIN, "cap_net_admin"),
    (CAP_NET_RAW, "cap_net_raw"),
    (CAP_SYS_ADMIN, "cap_sys_admin"),
    (CAP_SYS_CHROOT, "cap_sys_chroot"),
    (CAP_SYS_PTRACE, "cap_sys_ptrace"),
];

const CAP_SETPCAP_BIT: u64 = 1 << CAP_SETPCAP;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_CAPBSET_DROP: libc::c_int = 24;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Set no_new_privs and keep only the capabilities in [`KEEP`]
/// (`CAP_SETPCAP` is used to shrink the bounding set, then dropped too).
pub fn drop_privileges() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(Errno::last());
    }
    let keep: u64 = KEEP.iter().fold(0, |m, (c, _)| m | (1u64 << c));
    let last = last_cap();
    let (effective, permitted) = get()?;
    // The bounding set can only shrink with CAP_SETPCAP in effect.
    if effective & CAP_SETPCAP_BIT != 0 {
        for cap in 0..=last {
            if keep & (1u64 << cap) == 0 {
                // SAFETY: prctl with integer arguments only.
                if unsafe { libc::prctl(PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
                    let e = Errno::last();
                    if e != Errno::EINVAL {
                        return Err(e);
                    }
                }
            }
        }
    }
    let final_set = permitted & keep;
    set(final_set, final_set)
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn get() -> Result<(u64, u64), Errno> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget fills two CapData structs for version 3; both pointers
    // are valid for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    let join = |lo: u32, hi: u32| (lo as u64) | ((hi as u64) << 32);
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
    ))
}

fn set(effective: u64, permitted: u64) -> Result<(), Errno> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: 0,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: 0,
        },
    ];
    // SAFETY: capset reads two CapData structs for version 3; both pointers
    // are valid for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    Ok(())
}
