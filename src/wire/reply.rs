//! Typed results to ETF: `{Id, Result}` frames, the ready frame, log lines,
//! and the `{error, {Stage, Reason}}` term of an [`OpError`] (the one place
//! that maps an error to its term).

use crate::error::{errno_name, OpError, Reason, Stage};
use crate::frame::{encode_frame, end_frame, start_frame};
use crate::ops::Outcome;
use eetf::{Atom, BigInteger, Binary, FixInteger, List, Map, Term, Tuple};
use std::collections::HashMap;

/// Shorthand for an atom term (atoms are only ever made from fixed names).
pub fn atom(name: &str) -> Term {
    Term::from(Atom::from(name))
}

/// A binary term.
pub fn bin(b: &[u8]) -> Term {
    Term::from(Binary::from(b.to_vec()))
}

/// A non-negative integer as `term_to_binary/1` would encode it.
pub fn int(v: u64) -> Term {
    match i32::try_from(v) {
        Ok(small) => Term::from(FixInteger::from(small)),
        Err(_) => Term::from(BigInteger::from(v)),
    }
}

fn ok(t: Term) -> Term {
    Term::from(Tuple::from(vec![atom("ok"), t]))
}

fn list(items: Vec<Term>) -> Term {
    Term::from(List::from(items))
}

/// The `{Stage, Reason}` pair of an error (`{ns_fd, Offset, {Stage,
/// Reason}}` for one of a namespace named for a descriptor in a message).
fn reason_term(e: &OpError) -> Term {
    let reason = match &e.reason {
        Reason::NsFd { offset, inner } => {
            return Term::from(Tuple::from(vec![
                atom("ns_fd"),
                int(*offset as u64),
                reason_term(inner),
            ]));
        }
        Reason::Errno(errno) => atom(&errno_name(*errno)),
        Reason::Word(w) => atom(w),
        Reason::Text(t) => bin(t.as_bytes()),
        Reason::Partial { written, total } => Term::from(Tuple::from(vec![
            atom("partial"),
            int(*written as u64),
            int(*total as u64),
        ])),
    };
    Term::from(Tuple::from(vec![atom(e.stage.name()), reason]))
}

/// The `{error, {Stage, Reason}}` term.
pub fn error_term(e: &OpError) -> Term {
    Term::from(Tuple::from(vec![atom("error"), reason_term(e)]))
}

/// The result term of an outcome.
pub fn outcome_term(outcome: &Outcome) -> Term {
    match outcome {
        Outcome::Ok => atom("ok"),
        Outcome::Value(v) => ok(bin(v)),
        Outcome::Entries(es) => ok(list(
            es.iter()
                .map(|(p, v)| Term::from(Tuple::from(vec![bin(p), bin(v)])))
                .collect(),
        )),
        Outcome::Counters(cs) => {
            let map: HashMap<Term, Term> = cs.iter().map(|(k, v)| (atom(k), int(*v))).collect();
            ok(Term::from(Map::from(map)))
        }
        Outcome::Echo(t) => ok(t.clone()),
        Outcome::Messages(ms) => ok(list(ms.iter().map(|m| bin(m)).collect())),
        Outcome::FdSent => ok(atom("fd")),
        Outcome::Names(ns) => ok(list(ns.iter().map(|n| bin(n.as_bytes())).collect())),
        Outcome::Handle(id) => ok(int(*id)),
        Outcome::Batch(rs) => ok(list(rs.iter().map(outcome_term).collect())),
        Outcome::ApplyFailed {
            path,
            error,
            rolled_back,
        } => {
            let rolled = list(rolled_back.iter().map(|p| bin(p)).collect());
            let failed = Tuple::from(vec![atom("apply_failed"), bin(path), reason_term(error), rolled]);
            Term::from(Tuple::from(vec![atom("error"), Term::from(failed)]))
        }
        Outcome::Error(e) => error_term(e),
    }
}

/// The body of the first frame a port sends: `{0, {ready, Version}}`.
pub fn ready_term(version: &str) -> Term {
    Term::from(Tuple::from(vec![atom("ready"), bin(version.as_bytes())]))
}

/// `{bad_option, Text}`, sent with id 0 by a program that refuses its
/// command line, just before it exits with status 2.
pub fn bad_option_term(text: &str) -> Term {
    Term::from(Tuple::from(vec![atom("bad_option"), bin(text.as_bytes())]))
}

/// `{log, Level, Text}`, sent with id 0.
pub fn log_term(level: &str, text: &str) -> Term {
    Term::from(Tuple::from(vec![atom("log"), atom(level), bin(text.as_bytes())]))
}

/// Encode `{Id, Result}` for an outcome as one complete frame (length
/// prefix included), appended to `out`.
pub fn encode_reply(id: u64, outcome: &Outcome, out: &mut Vec<u8>) {
    match outcome {
        Outcome::Messages(ms) => encode_messages_frame(id, false, ms, out),
        _ => encode_term_frame(id, outcome_term(outcome), out),
    }
}

/// Encode `{Id, more, [Binary]}`, reply messages of request `Id` sent
/// ahead of its result, as one complete frame appended to `out`.
pub fn encode_part(id: u64, messages: &[Vec<u8>], out: &mut Vec<u8>) {
    encode_messages_frame(id, true, messages, out)
}

/// Tags of the external term format.
const VERSION: u8 = 131;
const SMALL_TUPLE_EXT: u8 = 104;
const SMALL_ATOM_UTF8_EXT: u8 = 119;
const BINARY_EXT: u8 = 109;
const LIST_EXT: u8 = 108;
const NIL_EXT: u8 = 106;

/// A frame of netlink messages: `{Id, more, [Binary]}` for a part, else
/// `{Id, {ok, [Binary]}}`. A dump is a megabyte or more, so the messages
/// go straight into the frame, with no term built for them.
fn encode_messages_frame(id: u64, part: bool, messages: &[Vec<u8>], out: &mut Vec<u8>) {
    let mut id_term = Vec::new();
    if int(id).encode(&mut id_term).is_err() || id_term.len() < 2 {
        // Encoding an integer into a Vec cannot fail; were it ever to,
        // the caller gets a well-formed error.
        return encode_term_frame(id, error_term(&OpError::word(Stage::Decode, "encode")), out);
    }
    let start = start_frame(out);
    out.extend_from_slice(&[VERSION, SMALL_TUPLE_EXT, if part { 3 } else { 2 }]);
    // The id without its own version byte.
    out.extend_from_slice(&id_term[1..]);
    let tag: &[u8] = if part { b"more" } else { b"ok" };
    if !part {
        out.extend_from_slice(&[SMALL_TUPLE_EXT, 2]);
    }
    out.extend_from_slice(&[SMALL_ATOM_UTF8_EXT, tag.len() as u8]);
    out.extend_from_slice(tag);
    if !messages.is_empty() {
        out.push(LIST_EXT);
        out.extend_from_slice(&(messages.len() as u32).to_be_bytes());
        for m in messages {
            out.push(BINARY_EXT);
            out.extend_from_slice(&(m.len() as u32).to_be_bytes());
            out.extend_from_slice(m);
        }
    }
    out.push(NIL_EXT);
    end_frame(out, start);
}

/// Encode `{Id, Term}` as one complete frame appended to `out`.
pub fn encode_term_frame(id: u64, term: Term, out: &mut Vec<u8>) {
    let term = Term::from(Tuple::from(vec![int(id), term]));
    let start = start_frame(out);
    if term.encode(&mut *out).is_err() {
        // Encoding into a Vec cannot fail for the terms built above; if it
        // ever did, send a well-formed error instead of a torn frame.
        out.truncate(start + 4);
        let fallback = Term::from(Tuple::from(vec![
            int(id),
            error_term(&OpError::word(Stage::Decode, "encode")),
        ]));
        let _ = fallback.encode(&mut *out);
    }
    end_frame(out, start);
}

/// Pass on a frame body made elsewhere (a namespace helper's reply) as one
/// frame appended to `out`.
pub fn encode_relayed(body: &[u8], out: &mut Vec<u8>) {
    encode_frame(body, out)
}
