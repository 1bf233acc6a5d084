//! Several sysctls in one namespace visit: a batch (each step answered on
//! its own) and apply (all or nothing, restoring on the first failure).
//!
//! Some keys change others when written: `net/ipv4/conf/all/forwarding`
//! and `net/ipv4/ip_forward` set `forwarding` of every IPv4 interface (and
//! each other), `net/ipv6/conf/all/forwarding` and
//! `net/ipv6/conf/all/disable_ipv6` set that key of every IPv6 interface.
//! Before apply writes such a key it notes the values of the keys it
//! cascades to; a rollback restores those too, and names each key it
//! restored in `RolledBack`. Other cascades of the kernel are not known
//! here and are not undone.

use super::{sysctl, BatchOp, Ctx, Outcome};
use crate::error::{OpError, Reason};
use std::os::fd::BorrowedFd;

/// Run the steps of a batch in order; a step's failure is its own result,
/// not the batch's. `write_ok` says whether a step may write a path.
pub fn batch(ctx: &Ctx, ops: &[BatchOp], write_ok: impl Fn(&[u8]) -> Result<(), OpError>) -> Outcome {
    Outcome::Batch(ops.iter().map(|op| step(ctx, op, &write_ok)).collect())
}

fn step(ctx: &Ctx, op: &BatchOp, write_ok: &impl Fn(&[u8]) -> Result<(), OpError>) -> Outcome {
    let run = || -> Result<Outcome, OpError> {
        let root = ctx.proc_sys()?;
        match op {
            BatchOp::Read(path) => ctx.read_sysctl(path).map(Outcome::Value),
            BatchOp::Write(path, value) => {
                write_ok(path)?;
                sysctl::write(root, path, value).map(|()| Outcome::Ok)
            }
            BatchOp::List(path) => sysctl::list(root, path).map(Outcome::Entries),
        }
    };
    run().into()
}

/// A key and the family of keys writing it changes: the directory they
/// live in and the name each has there.
fn cascade(path: &[u8]) -> Option<(&'static [u8], &'static [u8])> {
    match path {
        b"net/ipv4/conf/all/forwarding" | b"net/ipv4/ip_forward" => Some((b"net/ipv4/conf", b"forwarding")),
        b"net/ipv6/conf/all/forwarding" => Some((b"net/ipv6/conf", b"forwarding")),
        b"net/ipv6/conf/all/disable_ipv6" => Some((b"net/ipv6/conf", b"disable_ipv6")),
        _ => None,
    }
}

/// The current values of the keys a write of `path` cascades to.
fn snapshot(root: BorrowedFd<'_>, path: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some((dir, name)) = cascade(path) else {
        return Vec::new();
    };
    // One file in each directory below `dir` (an interface's, `all`,
    // `default`): read those alone, not the whole tree.
    let mut keys: Vec<(Vec<u8>, Vec<u8>)> = sysctl::children(root, dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|child| {
            let path = [dir, b"/", &child, b"/", name].concat();
            sysctl::read(root, &path).ok().map(|value| (path, value))
        })
        .collect();
    keys.sort_unstable();
    if dir == b"net/ipv4/conf" {
        if let Ok(v) = sysctl::read(root, b"net/ipv4/ip_forward") {
            keys.push((b"net/ipv4/ip_forward".to_vec(), v));
        }
    }
    keys
}

/// Read every old value, then write in order; on the first failure restore,
/// newest first, what was already written (a key the kernel took part of
/// included), then every key those writes cascaded to. One namespace
/// visit, on one worker, so no other request of this port interleaves.
pub fn apply(ctx: &Ctx, settings: &[(Vec<u8>, Vec<u8>)]) -> Outcome {
    let root = match ctx.proc_sys() {
        Ok(root) => root,
        Err(e) => return e.into(),
    };
    let mut old = Vec::with_capacity(settings.len());
    for (path, _) in settings {
        match sysctl::read(root, path) {
            Ok(v) => old.push((path.clone(), v)),
            Err(error) => {
                return Outcome::ApplyFailed {
                    path: path.clone(),
                    error,
                    rolled_back: Vec::new(),
                }
            }
        }
    }
    let mut cascaded: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (i, (path, value)) in settings.iter().enumerate() {
        cascaded.extend(snapshot(root, path));
        if let Err(error) = sysctl::write(root, path, value) {
            let changed = matches!(error.reason, Reason::Partial { .. });
            let written = if changed { i + 1 } else { i };
            let rolled_back = roll_back(root, &old[..written], &cascaded);
            return Outcome::ApplyFailed {
                path: path.clone(),
                error,
                rolled_back,
            };
        }
    }
    Outcome::Entries(old)
}

/// Restore `written` (newest first), then whatever of `cascaded` differs
/// from what was noted (oldest note first, so the first value noted for a
/// key wins). Returns the keys restored, each once.
fn roll_back(root: BorrowedFd<'_>, written: &[(Vec<u8>, Vec<u8>)], cascaded: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut restored: Vec<Vec<u8>> = Vec::new();
    for (p, v) in written.iter().rev() {
        if restore(root, p, v) {
            restored.push(p.clone());
        }
    }
    let mut seen: Vec<&[u8]> = Vec::new();
    for (p, v) in cascaded {
        if seen.contains(&p.as_slice()) {
            continue;
        }
        seen.push(p);
        let now = sysctl::read(root, p);
        if now.as_deref().is_ok_and(|now| now != v.as_slice()) && restore(root, p, v) && !restored.contains(p) {
            restored.push(p.clone());
        }
    }
    restored
}

fn restore(root: BorrowedFd<'_>, path: &[u8], old: &[u8]) -> bool {
    let value = old.strip_suffix(b"\n").unwrap_or(old);
    sysctl::write(root, path, value).is_ok()
}
