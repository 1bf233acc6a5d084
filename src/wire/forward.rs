//! Typed requests back to ETF: the frame body `{Id, Op}` that a namespace
//! helper is sent when the request did not arrive as a frame (C-node mode
//! gets bare ops). The reverse of [`request`](super::request), which reads
//! every body written here back to the same request.

use super::reply::{atom, bin, int};
use crate::dispatch::{BatchOp, NetnsOp, NlMsg, Op, Patch, Request};
use crate::ns::Target;
use eetf::{FixInteger, List, Term, Tuple};
use std::os::unix::ffi::OsStrExt;

/// Encode a request as the frame body `{Id, Op}` that
/// [`decode_request`](super::decode_request) reads back to the same request.
pub fn encode_request(req: &Request) -> Vec<u8> {
    let term = Term::from(Tuple::from(vec![int(req.id), op_term(&req.op)]));
    let mut out = Vec::with_capacity(128);
    // Encoding into a Vec cannot fail for the terms built here.
    let _ = term.encode(&mut out);
    out
}

fn tuple(elements: Vec<Term>) -> Term {
    Term::from(Tuple::from(elements))
}

fn small(v: i32) -> Term {
    Term::from(FixInteger::from(v))
}

fn boolean_term(b: bool) -> Term {
    atom(if b { "true" } else { "false" })
}

/// `{Msg, [{Offset, Patch}]}`, a patch being `{ifindex, Name}` or a target.
fn nl_msg_term(m: &NlMsg) -> Term {
    let patches = m
        .patches
        .iter()
        .map(|(offset, p)| {
            let what = match p {
                Patch::NsFd(t) => target_term(t),
                Patch::Ifindex(name) => tuple(vec![atom("ifindex"), bin(name)]),
            };
            tuple(vec![int(*offset as u64), what])
        })
        .collect::<Vec<_>>();
    tuple(vec![bin(&m.msg), Term::from(List::from(patches))])
}

fn op_term(op: &Op) -> Term {
    match op {
        Op::SysctlRead { path, target } => tuple(vec![atom("sysctl_read"), bin(path), target_term(target)]),
        Op::SysctlWrite {
            path,
            value,
            target,
            raw,
        } => {
            let mut elements = vec![atom("sysctl_write"), bin(path), bin(value), target_term(target)];
            if *raw {
                elements.push(atom("raw"));
            }
            tuple(elements)
        }
        Op::SysctlList { path, target, keys } => {
            let mut elements = vec![atom("sysctl_list"), bin(path), target_term(target)];
            if *keys {
                elements.push(atom("keys"));
            }
            tuple(elements)
        }
        Op::NetlinkOpen {
            protocol,
            groups,
            target,
        } => tuple(vec![
            atom("netlink_open"),
            small(*protocol),
            int(u64::from(*groups)),
            target_term(target),
        ]),
        Op::SocketOpen {
            domain,
            ty,
            protocol,
            target,
        } => tuple(vec![
            atom("socket_open"),
            small(*domain),
            small(*ty),
            small(*protocol),
            target_term(target),
        ]),
        Op::NetlinkCall {
            protocol,
            msg,
            target,
            ns_fds,
            part_bytes,
            strict,
        } => {
            let mut elements = vec![atom("netlink_call"), small(*protocol), bin(msg), target_term(target)];
            if !ns_fds.is_empty() || *part_bytes > 0 || *strict {
                let fds = ns_fds
                    .iter()
                    .map(|(offset, t)| tuple(vec![int(*offset as u64), target_term(t)]))
                    .collect::<Vec<_>>();
                elements.push(Term::from(List::from(fds)));
            }
            if *part_bytes > 0 || *strict {
                elements.push(int(*part_bytes as u64));
            }
            if *strict {
                elements.push(atom("true"));
            }
            tuple(elements)
        }
        Op::NetlinkBatch {
            protocol,
            target,
            msgs,
            stop,
        } => {
            let msgs = msgs.iter().map(nl_msg_term).collect::<Vec<_>>();
            tuple(vec![
                atom("netlink_batch"),
                small(*protocol),
                target_term(target),
                Term::from(List::from(msgs)),
                atom(if *stop { "true" } else { "false" }),
            ])
        }
        Op::Batch { target, ops } => {
            let steps = ops
                .iter()
                .map(|op| match op {
                    BatchOp::Read(p) => tuple(vec![atom("sysctl_read"), bin(p)]),
                    BatchOp::Write(p, v) => tuple(vec![atom("sysctl_write"), bin(p), bin(v)]),
                    BatchOp::List(p) => tuple(vec![atom("sysctl_list"), bin(p)]),
                })
                .collect::<Vec<_>>();
            tuple(vec![atom("batch"), target_term(target), Term::from(List::from(steps))])
        }
        Op::Apply { target, settings } => {
            let pairs = settings
                .iter()
                .map(|(p, v)| tuple(vec![bin(p), bin(v)]))
                .collect::<Vec<_>>();
            tuple(vec![
                atom("sysctl_apply"),
                target_term(target),
                Term::from(List::from(pairs)),
            ])
        }
        Op::Netns(n) => match n {
            NetnsOp::Add { name, lo_up } => tuple(vec![atom("netns_add"), bin(name.as_bytes()), boolean_term(*lo_up)]),
            NetnsOp::Delete { name } => tuple(vec![atom("netns_delete"), bin(name.as_bytes())]),
            NetnsOp::List => atom("netns_list"),
            NetnsOp::Identify { pid } => tuple(vec![atom("netns_identify"), small(*pid)]),
            NetnsOp::New { lo_up } => tuple(vec![atom("netns_new"), boolean_term(*lo_up)]),
            NetnsOp::Release { id } => tuple(vec![atom("netns_release"), int(*id)]),
        },
        Op::NetlinkBindFd { fd, groups } => tuple(vec![atom("netlink_bind_fd"), small(*fd), int(u64::from(*groups))]),
        Op::Version => atom("version"),
        Op::Stats => atom("stats"),
        Op::Ping(t) => tuple(vec![atom("ping"), t.clone()]),
    }
}

fn target_term(target: &Target) -> Term {
    match target {
        Target::Current => atom("self"),
        Target::HostKeys(inner) => tuple(vec![atom("host_keys"), target_term(inner)]),
        Target::Pid(pid) => tuple(vec![atom("pid"), small(*pid)]),
        Target::Netns(name) => tuple(vec![atom("netns"), bin(name.as_bytes())]),
        Target::Held(id) => tuple(vec![atom("held"), int(*id)]),
        Target::Ns(paths) => {
            let paths = paths.iter().map(|p| bin(p.as_os_str().as_bytes())).collect::<Vec<_>>();
            tuple(vec![atom("ns"), Term::from(List::from(paths))])
        }
    }
}
