//! Several sysctls in one namespace visit: a batch (each step answered on
//! its own) and apply (all or nothing, restoring on the first failure).

use super::{sysctl, BatchOp, Ctx, Outcome};
use crate::error::OpError;

/// Run the steps of a batch in order; a step's failure is its own result,
/// not the batch's.
pub fn batch(ctx: &Ctx, ops: &[BatchOp]) -> Outcome {
    Outcome::Batch(ops.iter().map(|op| step(ctx, op)).collect())
}

fn step(ctx: &Ctx, op: &BatchOp) -> Outcome {
    let run = || -> Result<Outcome, OpError> {
        let root = ctx.proc_sys()?;
        match op {
            BatchOp::Read(path) => ctx.read_sysctl(path).map(Outcome::Value),
            BatchOp::Write(path, value) => sysctl::write(root, path, value).map(|()| Outcome::Ok),
            BatchOp::List(path) => sysctl::list(root, path).map(Outcome::Entries),
        }
    };
    run().into()
}

/// Read every old value, then write in order; on the first failure restore,
/// newest first, what was already written. One namespace visit, on one
/// worker, so no other request of this port interleaves.
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
    for (i, (path, value)) in settings.iter().enumerate() {
        if let Err(error) = sysctl::write(root, path, value) {
            let mut rolled_back = Vec::new();
            for (p, v) in old[..i].iter().rev() {
                let restore = v.strip_suffix(b"\n").unwrap_or(v);
                if sysctl::write(root, p, restore).is_ok() {
                    rolled_back.push(p.clone());
                }
            }
            return Outcome::ApplyFailed {
                path: path.clone(),
                error,
                rolled_back,
            };
        }
    }
    Outcome::Entries(old)
}
