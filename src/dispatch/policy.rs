//! The policy the port enforces on every request, fixed at start from its
//! command line (`--allow-ops`, `--allow-targets`, `--allow-write-prefix`,
//! `--no-writes`)
//! and never changed by anything that arrives on stdin, so that a caller
//! cannot go further than the node that started the port allowed.
//!
//! Each part is open until restricted: no `--allow-ops` allows every op.
//! `version`, `stats` and `ping` are always allowed. A batch is checked
//! step by step, as if each step were sent on its own.

use super::request::{BatchOp, Op, Patch};
use crate::error::{OpError, Stage};
use crate::ns::Target;

/// Ops, target kinds and write prefixes a port may serve.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    ops: Option<Vec<String>>,
    targets: Option<Vec<String>>,
    write_prefixes: Option<Vec<Vec<u8>>>,
}

/// Ops a policy can name.
pub const OPS: [&str; 14] = [
    "sysctl_read",
    "sysctl_write",
    "sysctl_list",
    "netlink_open",
    "socket_open",
    "netlink_call",
    "batch",
    "netns_add",
    "netns_delete",
    "netns_list",
    "netns_identify",
    "netns_new",
    "netns_release",
    "netlink_bind_fd",
];

/// Target kinds a policy can name.
pub const TARGETS: [&str; 5] = ["self", "ns", "pid", "netns", "held"];

impl Policy {
    /// Allow only these ops (comma-separated names from [`OPS`]).
    pub fn allow_ops(&mut self, list: &str) -> Result<(), String> {
        self.ops = Some(names(list, &OPS)?);
        Ok(())
    }

    /// Allow only these target kinds (comma-separated names from [`TARGETS`]).
    pub fn allow_targets(&mut self, list: &str) -> Result<(), String> {
        self.targets = Some(names(list, &TARGETS)?);
        Ok(())
    }

    /// Allow writes under this relative path (`net/ipv4/conf`): the path
    /// itself and everything below it. May be given more than once.
    pub fn allow_write_prefix(&mut self, prefix: &str) -> Result<(), String> {
        let trimmed = prefix.trim_matches('/');
        if crate::ops::sysctl::check_path(trimmed.as_bytes(), true).is_err() {
            return Err(format!("bad write prefix {prefix:?}"));
        }
        self.write_prefixes
            .get_or_insert_with(Vec::new)
            .push(trimmed.as_bytes().to_vec());
        Ok(())
    }

    /// Allow no write at all (the same as an empty list of prefixes).
    pub fn deny_writes(&mut self) {
        self.write_prefixes = Some(Vec::new());
    }

    /// `Ok` if the op may run, else `{policy, op | target | path}`.
    pub fn check(&self, op: &Op) -> Result<(), OpError> {
        match op {
            Op::Version | Op::Stats | Op::Ping(_) => Ok(()),
            Op::Netns(n) => self.op(n.name()),
            Op::NetlinkBindFd { .. } => self.op("netlink_bind_fd"),
            Op::SysctlRead { target, .. }
            | Op::SysctlList { target, .. }
            | Op::NetlinkOpen { target, .. }
            | Op::SocketOpen { target, .. } => {
                self.op(op.name())?;
                self.target(target)
            }
            Op::SysctlWrite { path, target, .. } => {
                self.op(op.name())?;
                self.target(target)?;
                self.write(path)
            }
            Op::NetlinkCall { target, ns_fds, .. } => {
                self.op(op.name())?;
                self.target(target)?;
                ns_fds
                    .iter()
                    .try_for_each(|(offset, peer)| self.target(peer).map_err(|e| OpError::ns_fd(*offset, e)))
            }
            // The power of as many netlink calls, in one frame.
            Op::NetlinkBatch { target, msgs, .. } => {
                self.op("netlink_call")?;
                self.target(target)?;
                msgs.iter()
                    .flat_map(|m| &m.patches)
                    .try_for_each(|(_, patch)| match patch {
                        Patch::NsFd(peer) => self.target(peer),
                        Patch::Ifindex(_) => Ok(()),
                    })
            }
            Op::Apply { target, settings } => {
                self.op("sysctl_write")?;
                self.target(target)?;
                settings.iter().try_for_each(|(path, _)| self.write(path))
            }
            Op::Batch { target, ops } => {
                self.op("batch")?;
                self.target(target)?;
                for step in ops {
                    match step {
                        BatchOp::Read(_) => self.op("sysctl_read")?,
                        BatchOp::List(_) => self.op("sysctl_list")?,
                        BatchOp::Write(path, _) => {
                            self.op("sysctl_write")?;
                            self.write(path)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Whether targets may resolve to the port's own namespaces: only when
    /// `self` is allowed, whatever form the target takes (`{ns, []}`, the
    /// pid of a process in the host's namespaces, ...).
    pub fn check_own(&self, resolves_to_own: bool) -> Result<(), OpError> {
        match &self.targets {
            Some(ts) if resolves_to_own && !ts.iter().any(|t| t == "self") => {
                Err(OpError::word(Stage::Policy, "target"))
            }
            _ => Ok(()),
        }
    }

    fn op(&self, name: &str) -> Result<(), OpError> {
        match &self.ops {
            Some(ops) if !ops.iter().any(|o| o == name) => Err(OpError::word(Stage::Policy, "op")),
            _ => Ok(()),
        }
    }

    fn target(&self, target: &Target) -> Result<(), OpError> {
        let kind = match target {
            Target::HostKeys(inner) => return self.target(inner),
            Target::Current => "self",
            Target::Ns(_) => "ns",
            Target::Pid(_) => "pid",
            Target::Netns(_) => "netns",
            Target::Held(_) => "held",
        };
        match &self.targets {
            Some(ts) if !ts.iter().any(|t| t == kind) => Err(OpError::word(Stage::Policy, "target")),
            _ => Ok(()),
        }
    }

    fn write(&self, path: &[u8]) -> Result<(), OpError> {
        let Some(prefixes) = &self.write_prefixes else {
            return Ok(());
        };
        let under = |p: &Vec<u8>| {
            p.is_empty() || path == p.as_slice() || (path.starts_with(p) && path.get(p.len()) == Some(&b'/'))
        };
        if prefixes.iter().any(under) {
            Ok(())
        } else {
            Err(OpError::word(Stage::Policy, "path"))
        }
    }
}

fn names(list: &str, known: &[&str]) -> Result<Vec<String>, String> {
    list.split(',')
        .filter(|n| !n.is_empty())
        .map(|n| {
            if known.contains(&n) {
                Ok(n.to_string())
            } else {
                Err(format!("unknown name {n:?} (known: {})", known.join(", ")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &str, target: Target) -> Op {
        Op::SysctlWrite {
            path: path.as_bytes().to_vec(),
            value: b"1".to_vec(),
            target,
            raw: false,
        }
    }

    #[test]
    fn binding_a_node_socket_is_an_op_a_policy_names() {
        let bind = Op::NetlinkBindFd { fd: 3, groups: 1 };
        assert!(Policy::default().check(&bind).is_ok());
        let mut p = Policy::default();
        p.allow_ops("sysctl_read").unwrap();
        assert_eq!(p.check(&bind), Err(OpError::word(Stage::Policy, "op")));
        p.allow_ops("netlink_bind_fd").unwrap();
        assert!(p.check(&bind).is_ok());
    }

    #[test]
    fn open_policy_allows_everything() {
        let p = Policy::default();
        assert!(p.check(&write("kernel/hostname", Target::Pid(1))).is_ok());
    }

    #[test]
    fn write_prefixes_match_whole_segments() {
        let mut p = Policy::default();
        p.allow_write_prefix("net/ipv4/conf/").unwrap();
        assert!(p.check(&write("net/ipv4/conf/all/forwarding", Target::Current)).is_ok());
        assert!(p.check(&write("net/ipv4/conf", Target::Current)).is_ok());
        let refused = Err(OpError::word(Stage::Policy, "path"));
        assert_eq!(p.check(&write("net/ipv4/confx/a", Target::Current)), refused);
        assert_eq!(p.check(&write("kernel/hostname", Target::Current)), refused);
        let batch = Op::Batch {
            target: Target::Current,
            ops: vec![
                BatchOp::Read(b"kernel/ostype".to_vec()),
                BatchOp::Write(b"kernel/hostname".to_vec(), b"x".to_vec()),
            ],
        };
        assert_eq!(p.check(&batch), refused);
        // Reads are not limited by write prefixes.
        let read = Op::SysctlRead {
            path: b"kernel/ostype".to_vec(),
            target: Target::Current,
        };
        assert!(p.check(&read).is_ok());
    }

    #[test]
    fn ops_and_targets() {
        let mut p = Policy::default();
        p.allow_ops("sysctl_read,sysctl_list").unwrap();
        p.allow_targets("netns").unwrap();
        let read = |target| Op::SysctlRead {
            path: b"a".to_vec(),
            target,
        };
        assert!(p.check(&read(Target::Netns("x".into()))).is_ok());
        assert_eq!(
            p.check(&read(Target::Current)),
            Err(OpError::word(Stage::Policy, "target"))
        );
        assert_eq!(
            p.check(&write("a", Target::Netns("x".into()))),
            Err(OpError::word(Stage::Policy, "op"))
        );
        assert!(p.check(&Op::Version).is_ok());
        assert!(p.allow_ops("sysctl_read,launch").is_err());
        assert!(p.allow_targets("anywhere").is_err());
        assert!(p.allow_write_prefix("../etc").is_err());
    }
}
