//! ETF terms to typed requests: `{Id, Op}` frames ([`decode_request`]), bare
//! ops (C-node mode, [`decode_op`]) and targets. Decoding rejects extra or
//! wrong fields; atoms are only compared, never made from input. The
//! reverse is in [`forward`](super::forward).

use super::etf_check::check_etf;
use super::reply::atom;
use crate::dispatch::{BatchOp, NetnsOp, NlMsg, Op, Patch, Request, MAX_BATCH, MAX_NS_FDS};
use crate::error::{OpError, Stage};
use crate::frame::MAX_FRAME;
use crate::ns::Target;
use eetf::{BigInteger, Binary, FixInteger, List, Term, Tuple};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// A request that could not be decoded: the error and, when it could be
/// read, the id to answer (0 otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub id: u64,
    pub error: OpError,
}

/// Decode one frame body into a request.
pub fn decode_request(bytes: &[u8]) -> Result<Request, Rejected> {
    let reject = |id, word| Rejected {
        id,
        error: OpError::word(Stage::Decode, word),
    };
    check_etf(bytes).map_err(|_| reject(0, "badterm"))?;
    let term = Term::decode(bytes).map_err(|_| reject(0, "badterm"))?;
    let Term::Tuple(Tuple { elements }) = term else {
        return Err(reject(0, "badframe"));
    };
    let [id, op]: [Term; 2] = elements.try_into().map_err(|_| reject(0, "badframe"))?;
    let id = as_u64(&id).ok_or_else(|| reject(0, "badframe"))?;
    let op = decode_op(op).map_err(|error| Rejected { id, error })?;
    Ok(Request { id, op })
}

/// Decode an op term (the `Op` of `{Id, Op}`; C-node mode gets it bare).
pub fn decode_op(term: Term) -> Result<Op, OpError> {
    let unknown = || OpError::badarg("op");
    match term {
        Term::Atom(a) => match a.name.as_str() {
            "version" => Ok(Op::Version),
            "stats" => Ok(Op::Stats),
            "netns_list" => Ok(Op::Netns(NetnsOp::List)),
            _ => Err(unknown()),
        },
        Term::Tuple(Tuple { elements }) => {
            let mut it = elements.into_iter();
            let tag = match it.next() {
                Some(Term::Atom(a)) => a.name,
                _ => return Err(unknown()),
            };
            let args: Vec<Term> = it.collect();
            match (tag.as_str(), args.len()) {
                ("sysctl_read" | "sysctl_list", 2) => {
                    let [p, t] = arr(args)?;
                    let (path, target) = (binary(p, "path")?, decode_target(t)?);
                    Ok(match tag.as_str() {
                        "sysctl_read" => Op::SysctlRead { path, target },
                        _ => Op::SysctlList {
                            path,
                            target,
                            keys: false,
                        },
                    })
                }
                ("sysctl_list", 3) => {
                    let [p, t, form] = arr(args)?;
                    if form != atom("keys") {
                        return Err(OpError::badarg("form"));
                    }
                    Ok(Op::SysctlList {
                        path: binary(p, "path")?,
                        target: decode_target(t)?,
                        keys: true,
                    })
                }
                ("sysctl_write", 3) => {
                    let [p, v, t] = arr(args)?;
                    Ok(Op::SysctlWrite {
                        path: binary(p, "path")?,
                        value: binary(v, "value")?,
                        target: decode_target(t)?,
                        raw: false,
                    })
                }
                ("sysctl_write", 4) => {
                    let [p, v, t, form] = arr(args)?;
                    if form != atom("raw") {
                        return Err(OpError::badarg("form"));
                    }
                    Ok(Op::SysctlWrite {
                        path: binary(p, "path")?,
                        value: binary(v, "value")?,
                        target: decode_target(t)?,
                        raw: true,
                    })
                }
                ("netlink_bind_fd", 2) => {
                    let [f, g] = arr(args)?;
                    Ok(Op::NetlinkBindFd {
                        fd: int_in(&f, 0, i32::MAX, "fd")?,
                        groups: as_u64(&g)
                            .and_then(|g| u32::try_from(g).ok())
                            .ok_or(OpError::badarg("groups"))?,
                    })
                }
                ("netlink_open", 3) => {
                    let [p, g, t] = arr(args)?;
                    Ok(Op::NetlinkOpen {
                        protocol: int_in(&p, 0, 31, "protocol")?,
                        groups: as_u64(&g)
                            .and_then(|g| u32::try_from(g).ok())
                            .ok_or(OpError::badarg("groups"))?,
                        target: decode_target(t)?,
                    })
                }
                ("socket_open", 4) => {
                    let [d, ty, p, t] = arr(args)?;
                    Ok(Op::SocketOpen {
                        domain: int_in(&d, 0, 63, "domain")?,
                        ty: int_in(&ty, 0, 15, "type")?,
                        protocol: int_in(&p, 0, 65535, "protocol")?,
                        target: decode_target(t)?,
                    })
                }
                ("netlink_call", 3..=6) => {
                    let mut args = args.into_iter();
                    let (Some(p), Some(m), Some(t)) = (args.next(), args.next(), args.next()) else {
                        return Err(OpError::badarg("arity"));
                    };
                    let msg = binary(m, "msg")?;
                    let ns_fds = match args.next() {
                        Some(list) => decode_ns_fds(list, msg.len())?,
                        None => Vec::new(),
                    };
                    let part_bytes = match args.next() {
                        Some(n) => int_in(&n, 0, MAX_FRAME as i32, "part_bytes")? as usize,
                        None => 0,
                    };
                    let strict = match args.next() {
                        Some(b) => boolean(&b, "strict")?,
                        None => false,
                    };
                    Ok(Op::NetlinkCall {
                        protocol: int_in(&p, 0, 31, "protocol")?,
                        msg,
                        target: decode_target(t)?,
                        ns_fds,
                        part_bytes,
                        strict,
                    })
                }
                ("netlink_batch", 4) => {
                    let [p, t, msgs, stop] = arr(args)?;
                    let bad = || OpError::badarg("msgs");
                    let Term::List(List { elements }) = msgs else {
                        return Err(bad());
                    };
                    if elements.is_empty() || elements.len() > MAX_BATCH {
                        return Err(bad());
                    }
                    Ok(Op::NetlinkBatch {
                        protocol: int_in(&p, 0, 31, "protocol")?,
                        target: decode_target(t)?,
                        msgs: elements.into_iter().map(decode_nl_msg).collect::<Result<_, _>>()?,
                        stop: boolean(&stop, "stop")?,
                    })
                }
                ("batch", 2) => {
                    let [t, ops] = arr(args)?;
                    let target = decode_target(t)?;
                    let Term::List(List { elements }) = ops else {
                        return Err(OpError::badarg("batch"));
                    };
                    if elements.len() > MAX_BATCH {
                        return Err(OpError::badarg("batch"));
                    }
                    let ops = elements.into_iter().map(decode_batch_op).collect::<Result<_, _>>()?;
                    Ok(Op::Batch { target, ops })
                }
                ("sysctl_apply", 2) => {
                    let [t, settings] = arr(args)?;
                    let target = decode_target(t)?;
                    let bad = || OpError::badarg("settings");
                    let Term::List(List { elements }) = settings else {
                        return Err(bad());
                    };
                    if elements.len() > MAX_BATCH {
                        return Err(bad());
                    }
                    let settings = elements
                        .into_iter()
                        .map(|e| match e {
                            Term::Tuple(Tuple { elements }) => {
                                let [p, v]: [Term; 2] = elements.try_into().map_err(|_| bad())?;
                                Ok((binary(p, "path")?, binary(v, "value")?))
                            }
                            _ => Err(bad()),
                        })
                        .collect::<Result<_, _>>()?;
                    Ok(Op::Apply { target, settings })
                }
                ("ping", 1) => {
                    let [payload] = arr(args)?;
                    Ok(Op::Ping(payload))
                }
                ("netns_add", 2) => {
                    let [n, lo] = arr(args)?;
                    Ok(Op::Netns(NetnsOp::Add {
                        name: netns_name(n)?,
                        lo_up: boolean(&lo, "lo")?,
                    }))
                }
                ("netns_delete", 1) => {
                    let [n] = arr(args)?;
                    Ok(Op::Netns(NetnsOp::Delete { name: netns_name(n)? }))
                }
                ("netns_identify", 1) => {
                    let [p] = arr(args)?;
                    Ok(Op::Netns(NetnsOp::Identify {
                        pid: int_in(&p, 1, i32::MAX, "pid")?,
                    }))
                }
                ("netns_new", 1) => {
                    let [lo] = arr(args)?;
                    Ok(Op::Netns(NetnsOp::New {
                        lo_up: boolean(&lo, "lo")?,
                    }))
                }
                ("netns_release", 1) => {
                    let [h] = arr(args)?;
                    Ok(Op::Netns(NetnsOp::Release {
                        id: as_u64(&h).ok_or(OpError::badarg("handle"))?,
                    }))
                }
                (
                    "sysctl_read" | "sysctl_write" | "sysctl_list" | "netlink_open" | "socket_open" | "batch"
                    | "sysctl_apply" | "netlink_call" | "ping" | "netns_add" | "netns_delete" | "netns_identify"
                    | "netns_new" | "netns_release" | "netlink_batch",
                    _,
                ) => Err(OpError::badarg("arity")),
                _ => Err(unknown()),
            }
        }
        _ => Err(unknown()),
    }
}

fn decode_batch_op(t: Term) -> Result<BatchOp, OpError> {
    let bad = || OpError::badarg("batch");
    let Term::Tuple(Tuple { elements }) = t else {
        return Err(bad());
    };
    let mut it = elements.into_iter();
    let Some(Term::Atom(tag)) = it.next() else {
        return Err(bad());
    };
    let args: Vec<Term> = it.collect();
    match (tag.name.as_str(), args.len()) {
        ("sysctl_read", 1) => {
            let [p] = arr(args)?;
            Ok(BatchOp::Read(binary(p, "path")?))
        }
        ("sysctl_write", 2) => {
            let [p, v] = arr(args)?;
            Ok(BatchOp::Write(binary(p, "path")?, binary(v, "value")?))
        }
        ("sysctl_list", 1) => {
            let [p] = arr(args)?;
            Ok(BatchOp::List(binary(p, "path")?))
        }
        _ => Err(bad()),
    }
}

fn arr<const N: usize>(v: Vec<Term>) -> Result<[Term; N], OpError> {
    v.try_into().map_err(|_| OpError::badarg("arity"))
}

fn binary(t: Term, what: &'static str) -> Result<Vec<u8>, OpError> {
    match t {
        Term::Binary(Binary { bytes }) => Ok(bytes),
        _ => Err(OpError::badarg(what)),
    }
}

/// `[{Offset, Target}]`: where in a message of `len` bytes the descriptor
/// of each target's network namespace goes (4 bytes each, inside it).
fn decode_ns_fds(t: Term, len: usize) -> Result<Vec<(usize, Target)>, OpError> {
    decode_offsets(t, len, "ns_fds", decode_target)
}

/// `{Msg, [{Offset, Patch}]}`: one message of a netlink batch, and what
/// goes into it (4 bytes at each offset): `{ifindex, Name}` or the
/// descriptor of a target's network namespace.
fn decode_nl_msg(t: Term) -> Result<NlMsg, OpError> {
    let bad = || OpError::badarg("msgs");
    let Term::Tuple(Tuple { elements }) = t else {
        return Err(bad());
    };
    let [msg, patches]: [Term; 2] = elements.try_into().map_err(|_| bad())?;
    let msg = binary(msg, "msg")?;
    let patches = decode_offsets(patches, msg.len(), "msgs", |what| match what {
        Term::Tuple(Tuple { elements }) if is_tagged(&elements, "ifindex") => {
            let [_, name]: [Term; 2] = elements.try_into().map_err(|_| bad())?;
            Ok(Patch::Ifindex(binary(name, "ifindex")?))
        }
        target => Ok(Patch::NsFd(decode_target(target)?)),
    })?;
    Ok(NlMsg { msg, patches })
}

/// `[{Offset, X}]`, at most [`MAX_NS_FDS`], each offset with 4 bytes of a
/// message of `len` bytes at it, each `X` decoded by `each`.
fn decode_offsets<T>(
    t: Term,
    len: usize,
    what: &'static str,
    each: impl Fn(Term) -> Result<T, OpError>,
) -> Result<Vec<(usize, T)>, OpError> {
    let bad = || OpError::badarg(what);
    let Term::List(List { elements }) = t else {
        return Err(bad());
    };
    if elements.len() > MAX_NS_FDS {
        return Err(bad());
    }
    elements
        .into_iter()
        .map(|e| {
            let Term::Tuple(Tuple { elements }) = e else {
                return Err(bad());
            };
            let [offset, x]: [Term; 2] = elements.try_into().map_err(|_| bad())?;
            let offset = as_u64(&offset)
                .and_then(|o| usize::try_from(o).ok())
                .filter(|o| o.checked_add(4).is_some_and(|end| end <= len))
                .ok_or_else(bad)?;
            Ok((offset, each(x)?))
        })
        .collect()
}

fn is_tagged(elements: &[Term], tag: &str) -> bool {
    elements.len() == 2 && matches!(elements.first(), Some(Term::Atom(a)) if a.name == tag)
}

/// A netns name: UTF-8 (its checks against `/` and `..` come later).
fn netns_name(t: Term) -> Result<String, OpError> {
    String::from_utf8(binary(t, "name")?).map_err(|_| OpError::badarg("name"))
}

fn boolean(t: &Term, what: &'static str) -> Result<bool, OpError> {
    match t {
        Term::Atom(a) if a.name == "true" => Ok(true),
        Term::Atom(a) if a.name == "false" => Ok(false),
        _ => Err(OpError::badarg(what)),
    }
}

fn int_in(t: &Term, min: i32, max: i32, what: &'static str) -> Result<i32, OpError> {
    match t {
        Term::FixInteger(FixInteger { value }) if (min..=max).contains(value) => Ok(*value),
        _ => Err(OpError::badarg(what)),
    }
}

fn as_u64(t: &Term) -> Option<u64> {
    match t {
        Term::FixInteger(FixInteger { value }) => u64::try_from(*value).ok(),
        Term::BigInteger(BigInteger { value }) => u64::try_from(value).ok(),
        _ => None,
    }
}

/// Decode a target term.
pub fn decode_target(t: Term) -> Result<Target, OpError> {
    let bad = || OpError::badarg("target");
    match t {
        Term::Atom(a) if a.name == "self" => Ok(Target::Current),
        Term::Tuple(Tuple { elements }) => {
            let [tag, arg]: [Term; 2] = elements.try_into().map_err(|_| bad())?;
            let Term::Atom(tag) = tag else {
                return Err(bad());
            };
            match (tag.name.as_str(), arg) {
                ("pid", Term::FixInteger(FixInteger { value })) if value > 0 => Ok(Target::Pid(value)),
                ("held", id) => as_u64(&id).map(Target::Held).ok_or_else(bad),
                ("host_keys", inner) => match decode_target(inner)? {
                    Target::HostKeys(_) => Err(bad()),
                    inner => Ok(Target::HostKeys(Box::new(inner))),
                },
                ("netns", Term::Binary(Binary { bytes })) => {
                    let name = String::from_utf8(bytes).map_err(|_| bad())?;
                    Ok(Target::Netns(name))
                }
                ("ns", list) => {
                    let items = match list {
                        Term::List(List { elements }) => elements,
                        _ => return Err(bad()),
                    };
                    items
                        .into_iter()
                        .map(|i| match i {
                            Term::Binary(Binary { bytes }) => Ok(PathBuf::from(OsString::from_vec(bytes))),
                            _ => Err(bad()),
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Target::Ns)
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}
