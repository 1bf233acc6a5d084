//! Distribution messages: the checks before decoding, the frames written
//! back, and what a message to `linx` asks for.

use super::log::{Log, Warn};
use crate::error::OpError;
use crate::wire::etf_check::{Checker, EtfError};
use crate::wire::reply::atom;
use eetf::{BigInteger, Binary, FixInteger, ImproperList, Pid, Reference, Term, Tuple};
use erl_dist::message::Message;

/// The type byte of a distribution message without a distribution header.
pub const PASS_THROUGH: u8 = 112;

/// The check of `wire::etf_check` for the body of a distribution message
/// (after its `112` type byte): a control term and at most one message
/// term, each with its own version byte. Pids, references, ports and funs
/// are accepted here, and a little more nesting than in a request; the op
/// of a request is held to a request's limits once decoded
/// (`wire::etf_check::check_term`), so that it can be answered.
pub fn check_dist(bytes: &[u8]) -> Result<(), EtfError> {
    let mut c = Checker::for_distribution(bytes);
    for _ in 0..2 {
        c.versioned_term()?;
        if c.at_end() {
            return Ok(());
        }
    }
    Err(EtfError::Trailing)
}

/// A complete distribution frame: length, type byte, control and message.
pub fn frame(msg: Message) -> Option<Vec<u8>> {
    let mut buf = vec![0, 0, 0, 0, PASS_THROUGH];
    msg.write_into(&mut buf).ok()?;
    let len = u32::try_from(buf.len() - 4).ok()?;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    Some(buf)
}

/// Where the reply to a request goes.
#[derive(Debug)]
pub enum Dest {
    Pid(Pid),
    Alias(Reference),
}

/// `{'$gen_call', {Pid, Tag}, Op}` or `{Pid, Ref, Op}`: where the reply
/// goes, the reply's tag and the op. Anything else is ignored (and logged).
pub fn gen_call(message: Term, aliases: bool, log: &Log) -> Option<(Dest, Term, Term)> {
    let shape = |m: &Term| format!("{m}").chars().take(80).collect::<String>();
    let Term::Tuple(Tuple { elements }) = message else {
        log.warn(Warn::MessageIgnored, || format!("message ignored: {}", shape(&message)));
        return None;
    };
    let Ok([first, second, op]) = <[Term; 3]>::try_from(elements) else {
        return None;
    };
    match (first, second) {
        (Term::Atom(a), Term::Tuple(Tuple { elements: from })) if a.name == "$gen_call" => {
            let Ok([Term::Pid(pid), tag]) = <[Term; 2]>::try_from(from) else {
                return None;
            };
            let to = match &tag {
                Term::ImproperList(ImproperList { elements, last }) if aliases => {
                    match (elements.as_slice(), last.as_ref()) {
                        ([Term::Atom(a)], Term::Reference(r)) if a.name == "alias" => Dest::Alias((**r).clone()),
                        _ => Dest::Pid(pid),
                    }
                }
                _ => Dest::Pid(pid),
            };
            Some((to, tag, op))
        }
        (Term::Pid(pid), tag) => Some((Dest::Pid(pid), tag, op)),
        (first, _) => {
            log.warn(Warn::MessageIgnored, || {
                format!("message ignored: {{{}, ...}}", shape(&first))
            });
            None
        }
    }
}

/// What a request to the C-node asks for, before the ops both modes share.
#[derive(Debug)]
pub enum CnodeOp {
    /// `os_pid`: answered by the C-node itself.
    OsPid,
    /// `{fd_to, Name, Tag, Op}`: run `Op`, sending its descriptor to the
    /// listener at `\0Name`, tagged `Tag`.
    FdTo {
        name: String,
        tag: u64,
        op: Term,
    },
    Bad(OpError),
    /// Any op of the port protocol.
    Other(Term),
}

/// Sort a request's op term.
pub fn cnode_op(op: Term) -> CnodeOp {
    match op {
        Term::Atom(a) if a.name == "os_pid" => CnodeOp::OsPid,
        Term::Tuple(Tuple { elements }) if matches!(elements.first(), Some(Term::Atom(a)) if a.name == "fd_to") => {
            let Ok([_, name, tag, op]) = <[Term; 4]>::try_from(elements) else {
                return CnodeOp::Bad(OpError::badarg("arity"));
            };
            let name = match name {
                Term::Binary(Binary { bytes }) if valid_fd_name(&bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => return CnodeOp::Bad(OpError::badarg("fd_socket")),
            };
            let tag = match tag {
                Term::FixInteger(FixInteger { value }) if value >= 0 => value as u64,
                Term::BigInteger(BigInteger { value }) => match u64::try_from(&value) {
                    Ok(t) => t,
                    Err(_) => return CnodeOp::Bad(OpError::badarg("tag")),
                },
                _ => return CnodeOp::Bad(OpError::badarg("tag")),
            };
            CnodeOp::FdTo { name, tag, op }
        }
        other => CnodeOp::Other(other),
    }
}

/// `linx-` followed by letters, digits and `-`: the form the Erlang side
/// makes, and nothing that could name another program's socket.
pub fn valid_fd_name(name: &[u8]) -> bool {
    name.len() <= 100
        && name.starts_with(b"linx-")
        && name.len() > 5
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// The name of a control message, for the log.
pub fn control_name(m: &Message) -> &'static str {
    match m {
        Message::GroupLeader(_) => "GROUP_LEADER",
        Message::SpawnRequest(_) | Message::SpawnRequestTt(_) => "SPAWN_REQUEST",
        Message::NodeLink(_) => "NODE_LINK",
        Message::Unlink(_) => "UNLINK",
        _ => "other",
    }
}

/// `{Tag, Result}`: the message a caller waits for.
pub fn tagged(tag: Term, result: Term) -> Term {
    Term::from(Tuple::from(vec![tag, result]))
}

/// `noproc`, the reason of refused monitors and links.
pub fn noproc() -> Term {
    atom("noproc")
}

#[cfg(test)]
mod tests {
    use super::*;
    use eetf::Atom;

    fn pid() -> Pid {
        Pid::new("caller@host", 42, 0, 1)
    }

    fn reference() -> Reference {
        Reference {
            node: Atom::from("caller@host"),
            id: vec![1, 2, 3],
            creation: 1,
        }
    }

    #[test]
    fn gen_call_with_alias_tag_replies_to_the_alias() {
        let tag = Term::from(ImproperList {
            elements: vec![atom("alias")],
            last: Box::new(Term::from(reference())),
        });
        let from = Term::from(Tuple::from(vec![Term::from(pid()), tag.clone()]));
        let msg = Term::from(Tuple::from(vec![atom("$gen_call"), from, atom("version")]));
        let (to, got_tag, op) = gen_call(msg.clone(), true, &Log::default()).expect("a call");
        assert!(matches!(to, Dest::Alias(r) if r == reference()));
        assert_eq!(got_tag, tag);
        assert_eq!(op, atom("version"));
        // Without alias support the reply goes to the pid.
        let (to, _, _) = gen_call(msg, false, &Log::default()).expect("a call");
        assert!(matches!(to, Dest::Pid(p) if p == pid()));
    }

    #[test]
    fn plain_request_replies_to_the_pid() {
        let msg = Term::from(Tuple::from(vec![
            Term::from(pid()),
            Term::from(reference()),
            atom("stats"),
        ]));
        let (to, tag, op) = gen_call(msg, true, &Log::default()).expect("a request");
        assert!(matches!(to, Dest::Pid(p) if p == pid()));
        assert_eq!(tag, Term::from(reference()));
        assert_eq!(op, atom("stats"));
    }

    #[test]
    fn other_messages_are_ignored() {
        assert!(gen_call(atom("hello"), true, &Log::default()).is_none());
        assert!(gen_call(
            Term::from(Tuple::from(vec![atom("a"), atom("b"), atom("c")])),
            true,
            &Log::default()
        )
        .is_none());
        let cast = Term::from(Tuple::from(vec![atom("$gen_cast"), atom("x")]));
        assert!(gen_call(cast, true, &Log::default()).is_none());
    }

    #[test]
    fn fd_names_are_restricted() {
        assert!(valid_fd_name(b"linx-0A1b2C"));
        assert!(!valid_fd_name(b"linx-"));
        assert!(!valid_fd_name(b"other-1234"));
        assert!(!valid_fd_name(b"linx-../x"));
        assert!(!valid_fd_name(b"linx-a\0b"));
        assert!(!valid_fd_name(&[b'a'; 200]));
    }

    #[test]
    fn fd_to_is_decoded() {
        let op = Term::from(Tuple::from(vec![
            atom("fd_to"),
            Term::from(Binary::from(b"linx-abc".to_vec())),
            Term::from(FixInteger::from(7)),
            atom("version"),
        ]));
        assert!(matches!(cnode_op(op), CnodeOp::FdTo { tag: 7, .. }));
        let bad = Term::from(Tuple::from(vec![
            atom("fd_to"),
            Term::from(Binary::from(b"/tmp/x".to_vec())),
            Term::from(FixInteger::from(7)),
            atom("version"),
        ]));
        assert!(matches!(cnode_op(bad), CnodeOp::Bad(_)));
        assert!(matches!(cnode_op(atom("os_pid")), CnodeOp::OsPid));
        assert!(matches!(cnode_op(atom("version")), CnodeOp::Other(_)));
        let ping = Term::from(Tuple::from(vec![atom("ping"), atom("x")]));
        assert!(matches!(cnode_op(ping), CnodeOp::Other(_)));
        let read = Term::from(Tuple::from(vec![atom("sysctl_read"), atom("x"), atom("self")]));
        assert!(matches!(cnode_op(read), CnodeOp::Other(_)));
    }

    #[test]
    fn frames_carry_their_length() {
        let f = frame(Message::send(pid(), atom("ok"))).expect("encodes");
        assert_eq!(u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize, f.len() - 4);
        assert_eq!(f[4], PASS_THROUGH);
        assert!(check_dist(&f[5..]).is_ok());
        let back = Message::read_from(&mut &f[5..]).expect("decodes");
        assert_eq!(back, Message::send(pid(), atom("ok")));
    }

    #[test]
    fn dist_check_refuses_garbage() {
        assert!(check_dist(&[131, 104, 1, 97]).is_err());
        assert!(check_dist(&[131, 106, 131, 106, 131, 106]).is_err());
        assert!(check_dist(&[131, 106]).is_ok());
        // A pid whose node is not an atom.
        assert!(check_dist(&[131, 88, 97, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
