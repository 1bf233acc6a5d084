//! The typed error of a request.
//!
//! Every failure a request can meet is an [`OpError`]: the stage that failed
//! (`read`, `setns`, `open_ns`, ...) and a reason, which is an errno or, for
//! argument and decoding errors, a short fixed word (`path`, `target`,
//! `badterm`). The wire layer (`wire::reply`) renders it as
//! `{error, {Stage, Reason}}` with the names given here.

use nix::errno::Errno;
use std::fmt;

/// The stage of a request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Read,
    Write,
    List,
    OpenNs,
    Unshare,
    Setns,
    Thread,
    Open,
    Socket,
    Bind,
    Setsockopt,
    SendFd,
    Decode,
    Badarg,
    Busy,
    Panic,
    Policy,
    Send,
    Recv,
    Create,
    Mount,
    Umount,
    Unlink,
    Loopback,
    Ifindex,
}

impl Stage {
    /// The atom naming this stage on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Write => "write",
            Stage::List => "list",
            Stage::OpenNs => "open_ns",
            Stage::Unshare => "unshare",
            Stage::Setns => "setns",
            Stage::Thread => "thread",
            Stage::Open => "open",
            Stage::Socket => "socket",
            Stage::Bind => "bind",
            Stage::Setsockopt => "setsockopt",
            Stage::SendFd => "send_fd",
            Stage::Decode => "decode",
            Stage::Badarg => "badarg",
            Stage::Busy => "busy",
            Stage::Panic => "panic",
            Stage::Policy => "policy",
            Stage::Send => "send",
            Stage::Recv => "recv",
            Stage::Create => "create",
            Stage::Mount => "mount",
            Stage::Umount => "umount",
            Stage::Unlink => "unlink",
            Stage::Loopback => "loopback",
            Stage::Ifindex => "ifindex",
        }
    }
}

/// Why a stage failed: an errno, or a fixed reason word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Errno(Errno),
    Word(&'static str),
    /// Free text, sent as a binary (only for panics).
    Text(String),
    /// The kernel took only `written` of `total` bytes of a value (which
    /// has changed): `{partial, Written, Total}`.
    Partial {
        written: usize,
        total: usize,
    },
    /// The namespace named for the descriptor at byte `offset` of a
    /// netlink message (a `netlink_call`'s `ns_fds`) failed, not the
    /// request's target: `{ns_fd, Offset, {Stage, Reason}}` in place of
    /// the pair, with the inner error's stage and reason.
    NsFd {
        offset: usize,
        inner: Box<OpError>,
    },
}

/// A failed request, rendered on the wire as `{error, {Stage, Reason}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct OpError {
    pub stage: Stage,
    pub reason: Reason,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Errno(e) => write!(f, "{}: {}", self.stage.name(), errno_name(*e)),
            Reason::Word(w) => write!(f, "{}: {}", self.stage.name(), w),
            Reason::Text(t) => write!(f, "{}: {}", self.stage.name(), t),
            Reason::Partial { written, total } => {
                write!(f, "{}: partial ({written} of {total} bytes)", self.stage.name())
            }
            Reason::NsFd { offset, inner } => write!(f, "ns_fd at byte {offset}: {inner}"),
        }
    }
}

/// Module-local result type.
pub type Result<T> = std::result::Result<T, OpError>;

impl OpError {
    /// A stage that failed with an errno.
    pub fn errno(stage: Stage, errno: Errno) -> Self {
        OpError {
            stage,
            reason: Reason::Errno(errno),
        }
    }

    /// A stage that failed for a fixed reason (`{badarg, path}`).
    pub fn word(stage: Stage, word: &'static str) -> Self {
        OpError {
            stage,
            reason: Reason::Word(word),
        }
    }

    /// `{badarg, What}`.
    pub fn badarg(what: &'static str) -> Self {
        Self::word(Stage::Badarg, what)
    }

    /// `inner`, an error of the namespace named for the descriptor at byte
    /// `offset` of a netlink message (keeping its stage).
    pub fn ns_fd(offset: usize, inner: OpError) -> Self {
        OpError {
            stage: inner.stage,
            reason: Reason::NsFd {
                offset,
                inner: Box::new(inner),
            },
        }
    }

    /// The same error seen at another stage.
    pub fn at(self, stage: Stage) -> Self {
        OpError { stage, ..self }
    }
}

/// The lowercase errno name used as an atom (`EACCES` becomes `eacces`).
pub fn errno_name(e: Errno) -> String {
    if e == Errno::UnknownErrno {
        return "eunknown".to_string();
    }
    format!("{e:?}").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_atoms_are_lowercase_names() {
        assert_eq!(errno_name(Errno::EACCES), "eacces");
        assert_eq!(errno_name(Errno::ENOENT), "enoent");
        assert_eq!(errno_name(Errno::EPROTONOSUPPORT), "eprotonosupport");
    }

    #[test]
    fn errors_display_stage_and_reason() {
        assert_eq!(
            OpError::errno(Stage::OpenNs, Errno::ENOENT).to_string(),
            "open_ns: enoent"
        );
        assert_eq!(OpError::badarg("path").to_string(), "badarg: path");
        assert_eq!(
            OpError::ns_fd(24, OpError::errno(Stage::OpenNs, Errno::ENOENT)).to_string(),
            "ns_fd at byte 24: open_ns: enoent"
        );
    }
}
