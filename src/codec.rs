//! The wire: `{packet,4}` frames, each one ETF term.
//!
//! ```text
//! frame    = Len:32/big, Payload:Len/binary        (Len <= MAX_FRAME)
//! request  = {Id, Op}                              Id >= 0, chosen by the caller
//! reply    = {Id, Result}                          in any order; Id 0 = unsolicited
//! ready    = {0, {ready, Version}}                 the first frame the port sends
//! log      = {0, {log, Level, Text}}               Level: error | warning | notice | info
//!
//! Op       = {sysctl_read, RelPath, Target}              -> {ok, Value}
//!          | {sysctl_write, RelPath, Value, Target}      -> ok
//!          | {sysctl_list, RelPath, Target}              -> {ok, [{RelPath, Value}]}
//!          | {netlink_open, Protocol, Groups, Target}     -> {ok, fd}   (fd sent on the fd channel)
//!          | {socket_open, Domain, Type, Protocol, Target} -> {ok, fd}
//!          | {netlink_call, Protocol, Msg, Target}        -> {ok, [Binary]}  (one per reply message)
//!          | {batch, Target, [BatchOp]}                   -> {ok, [Result]}  (one namespace visit)
//!          | {sysctl_apply, Target, [{RelPath, Value}]}   -> {ok, [{RelPath, OldValue}]}
//!                 | {error, {apply_failed, RelPath, {Stage, Reason}, [RolledBackPath]}}
//!          | version                                     -> {ok, Version}
//!          | stats                                       -> {ok, #{atom() => integer()}}
//!          | {ping, Term}                                -> {ok, Term}
//! BatchOp  = {sysctl_read, RelPath} | {sysctl_write, RelPath, Value} | {sysctl_list, RelPath}
//! Target   = self | {ns, [NsPath]} | {pid, OsPid} | {netns, Name}
//! Result   = ... | {error, {Stage, Reason}}
//! ```
//!
//! Three separate pieces live here, none of which does I/O beyond the
//! `Read`/`Write` it is handed:
//! - framing ([`parse_header`], [`read_frame`], [`encode_frame`]), with the size cap;
//! - a structural check of the ETF bytes ([`check_etf`]) that bounds nesting,
//!   element counts and lengths before the term decoder allocates anything;
//! - ETF ⇄ typed [`Request`] / [`Reply`].

use crate::error::{atom, OpError, Stage};
use eetf::{BigInteger, Binary, FixInteger, List, Map, Term, Tuple};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// Largest frame accepted, in bytes.
pub const MAX_FRAME: usize = 16 << 20;
/// Deepest nesting of lists, tuples and maps accepted in a request.
pub const MAX_DEPTH: usize = 64;
/// Most terms (of any kind) accepted in one request.
pub const MAX_TERMS: usize = 1 << 18;
/// Largest big integer accepted, in bytes of magnitude.
const MAX_BIG_BYTES: usize = 16;

// ---------------------------------------------------------------- framing

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The input ended (cleanly or inside a frame).
    #[error("end of input")]
    Eof,
    /// The length prefix exceeds [`MAX_FRAME`]; the body was skipped.
    #[error("frame of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

/// The body length announced by a 4-byte header, if within the limit.
pub fn parse_header(header: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        Err(FrameError::TooLarge(len))
    } else {
        Ok(len)
    }
}

/// Read one frame body into `buf`. An oversized frame is consumed and
/// discarded in small pieces (never allocated) so the stream stays in step.
pub fn read_frame<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> Result<(), FrameError> {
    let mut header = [0u8; 4];
    read_full(r, &mut header)?;
    match parse_header(header) {
        Ok(len) => {
            buf.clear();
            buf.resize(len, 0);
            read_full(r, buf)
        }
        Err(FrameError::TooLarge(len)) => {
            let skipped = io::copy(&mut r.take(len as u64), &mut io::sink())?;
            if skipped < len as u64 {
                return Err(FrameError::Eof);
            }
            Err(FrameError::TooLarge(len))
        }
        Err(e) => Err(e),
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), FrameError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(FrameError::Eof),
        Err(e) => Err(FrameError::Io(e)),
    }
}

/// Prefix a payload with its 4-byte big-endian length.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

// ---------------------------------------------------------------- ETF check

/// Why ETF bytes were refused before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EtfError {
    #[error("truncated term")]
    Truncated,
    #[error("unsupported version or tag")]
    Unsupported,
    #[error("term nested too deeply")]
    TooDeep,
    #[error("term has too many elements")]
    TooMany,
    #[error("trailing bytes after the term")]
    Trailing,
}

/// Walk the ETF bytes and accept them only if every length fits in what is
/// left, nesting stays within [`MAX_DEPTH`] and the term count within
/// [`MAX_TERMS`]. Only the tags a request can use are accepted (no
/// compression, no pids, references, ports or funs).
pub fn check_etf(bytes: &[u8]) -> Result<(), EtfError> {
    let mut c = Checker {
        b: bytes,
        pos: 0,
        terms: 0,
        ids: false,
    };
    if c.u8()? != 131 {
        return Err(EtfError::Unsupported);
    }
    c.term(0)?;
    if c.pos != bytes.len() {
        return Err(EtfError::Trailing);
    }
    Ok(())
}

/// The same check for the body of a distribution message (after its
/// `112` type byte): a control term and at most one message term, each with
/// its own version byte. Pids, references and ports are accepted here (they
/// address processes in distribution), still nothing compressed and no funs.
pub fn check_dist(bytes: &[u8]) -> Result<(), EtfError> {
    let mut c = Checker {
        b: bytes,
        pos: 0,
        terms: 0,
        ids: true,
    };
    for _ in 0..2 {
        if c.u8()? != 131 {
            return Err(EtfError::Unsupported);
        }
        c.term(0)?;
        if c.pos == bytes.len() {
            return Ok(());
        }
    }
    Err(EtfError::Trailing)
}

struct Checker<'a> {
    b: &'a [u8],
    pos: usize,
    terms: usize,
    /// Accept pids, references and ports.
    ids: bool,
}

impl Checker<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], EtfError> {
        let end = self.pos.checked_add(n).ok_or(EtfError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(EtfError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, EtfError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, EtfError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]) as usize)
    }
    fn u32(&mut self) -> Result<usize, EtfError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
    }
    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    /// Account for `n` more terms, each needing at least one byte.
    fn expect(&mut self, n: usize) -> Result<(), EtfError> {
        if n > self.remaining() {
            return Err(EtfError::Truncated);
        }
        self.terms = self.terms.saturating_add(n);
        if self.terms > MAX_TERMS {
            return Err(EtfError::TooMany);
        }
        Ok(())
    }
    fn term(&mut self, depth: usize) -> Result<(), EtfError> {
        if depth > MAX_DEPTH {
            return Err(EtfError::TooDeep);
        }
        match self.u8()? {
            97 => self.take(1).map(drop), // SMALL_INTEGER_EXT
            98 => self.take(4).map(drop), // INTEGER_EXT
            70 => self.take(8).map(drop), // NEW_FLOAT_EXT
            100 | 118 => {
                // ATOM_EXT, ATOM_UTF8_EXT
                let n = self.u16()?;
                if n > 255 * 4 {
                    return Err(EtfError::Unsupported);
                }
                self.take(n).map(drop)
            }
            115 | 119 => {
                // SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
                let n = self.u8()? as usize;
                self.take(n).map(drop)
            }
            104 => {
                let n = self.u8()? as usize;
                self.seq(n, depth)
            }
            105 => {
                let n = self.u32()?;
                self.seq(n, depth)
            }
            106 => Ok(()), // NIL_EXT
            107 => {
                let n = self.u16()?;
                self.take(n).map(drop)
            }
            108 => {
                // LIST_EXT: n elements and a tail
                let n = self.u32()?;
                self.seq(n.checked_add(1).ok_or(EtfError::TooMany)?, depth)
            }
            109 => {
                let n = self.u32()?;
                self.take(n).map(drop)
            }
            77 => {
                // BIT_BINARY_EXT
                let n = self.u32()?;
                let bits = self.u8()?;
                // Trailing bits must be 1..=8 (eetf shifts by 8 - bits, as Erlang requires).
                if n > 0 && !(1..=8).contains(&bits) {
                    return Err(EtfError::Unsupported);
                }
                self.take(n).map(drop)
            }
            110 => {
                let n = self.u8()? as usize;
                self.big(n)
            }
            111 => {
                let n = self.u32()?;
                self.big(n)
            }
            116 => {
                let n = self.u32()?;
                self.seq(n.checked_mul(2).ok_or(EtfError::TooMany)?, depth)
            }
            tag if self.ids => self.id(tag),
            _ => Err(EtfError::Unsupported),
        }
    }
    /// A pid, reference or port: a node atom and fixed-size fields.
    fn id(&mut self, tag: u8) -> Result<(), EtfError> {
        let (words, fixed) = match tag {
            88 => (0, 12),  // NEW_PID_EXT
            103 => (0, 9),  // PID_EXT
            89 => (0, 8),   // NEW_PORT_EXT
            120 => (0, 12), // V4_PORT_EXT
            102 => (0, 5),  // PORT_EXT
            90 | 114 => {
                // NEWER_REFERENCE_EXT, NEW_REFERENCE_EXT: Len, Node, Creation, Len words
                let n = self.u16()?;
                if n > 5 {
                    return Err(EtfError::Unsupported);
                }
                (n * 4, if tag == 90 { 4 } else { 1 })
            }
            _ => return Err(EtfError::Unsupported),
        };
        match self.u8()? {
            100 | 118 => {
                let n = self.u16()?;
                if n > 255 * 4 {
                    return Err(EtfError::Unsupported);
                }
                self.take(n)?;
            }
            115 | 119 => {
                let n = self.u8()? as usize;
                self.take(n)?;
            }
            _ => return Err(EtfError::Unsupported),
        }
        self.take(fixed + words).map(drop)
    }
    fn seq(&mut self, n: usize, depth: usize) -> Result<(), EtfError> {
        self.expect(n)?;
        for _ in 0..n {
            self.term(depth + 1)?;
        }
        Ok(())
    }
    fn big(&mut self, n: usize) -> Result<(), EtfError> {
        if n > MAX_BIG_BYTES {
            return Err(EtfError::Unsupported);
        }
        self.take(1 + n).map(drop)
    }
}

// ---------------------------------------------------------------- requests

/// Where a request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The port's own namespaces.
    Current,
    /// These namespace files, entered in order.
    Ns(Vec<PathBuf>),
    /// The user, mnt, uts, ipc and net namespaces of a process.
    Pid(i32),
    /// `/run/netns/Name`.
    Netns(String),
}

/// One operation, decoded and type-checked (paths are checked by `sysctl`).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    SysctlRead {
        path: Vec<u8>,
        target: Target,
    },
    SysctlWrite {
        path: Vec<u8>,
        value: Vec<u8>,
        target: Target,
    },
    SysctlList {
        path: Vec<u8>,
        target: Target,
    },
    NetlinkOpen {
        protocol: i32,
        groups: u32,
        target: Target,
    },
    SocketOpen {
        domain: i32,
        ty: i32,
        protocol: i32,
        target: Target,
    },
    /// Send netlink messages from a fresh socket in the target's network
    /// namespace and collect every reply.
    NetlinkCall {
        protocol: i32,
        msg: Vec<u8>,
        target: Target,
    },
    Batch {
        target: Target,
        ops: Vec<BatchOp>,
    },
    /// Write in order, restoring what was written on the first failure.
    Apply {
        target: Target,
        settings: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Version,
    Stats,
    Ping(Term),
}

/// Most ops in one batch.
pub const MAX_BATCH: usize = 10_000;

/// One step of a batch, run in the batch's target.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    Read(Vec<u8>),
    Write(Vec<u8>, Vec<u8>),
    List(Vec<u8>),
}

impl Op {
    /// The target the op runs in, if it has one.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Op::SysctlRead { target, .. }
            | Op::SysctlWrite { target, .. }
            | Op::SysctlList { target, .. }
            | Op::NetlinkOpen { target, .. }
            | Op::SocketOpen { target, .. }
            | Op::NetlinkCall { target, .. }
            | Op::Batch { target, .. }
            | Op::Apply { target, .. } => Some(target),
            _ => None,
        }
    }

    /// The op's name, for statistics.
    pub fn name(&self) -> &'static str {
        match self {
            Op::SysctlRead { .. } => "sysctl_read",
            Op::SysctlWrite { .. } => "sysctl_write",
            Op::SysctlList { .. } => "sysctl_list",
            Op::NetlinkOpen { .. } => "netlink_open",
            Op::SocketOpen { .. } => "socket_open",
            Op::NetlinkCall { .. } => "netlink_call",
            Op::Batch { .. } => "batch",
            Op::Apply { .. } => "sysctl_apply",
            Op::Version => "version",
            Op::Stats => "stats",
            Op::Ping(_) => "ping",
        }
    }
}

/// A request: the caller's id and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub op: Op,
}

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
                ("sysctl_read", 2) => {
                    let [p, t] = arr(args)?;
                    Ok(Op::SysctlRead {
                        path: binary(p, "path")?,
                        target: decode_target(t)?,
                    })
                }
                ("sysctl_write", 3) => {
                    let [p, v, t] = arr(args)?;
                    Ok(Op::SysctlWrite {
                        path: binary(p, "path")?,
                        value: binary(v, "value")?,
                        target: decode_target(t)?,
                    })
                }
                ("sysctl_list", 2) => {
                    let [p, t] = arr(args)?;
                    Ok(Op::SysctlList {
                        path: binary(p, "path")?,
                        target: decode_target(t)?,
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
                ("netlink_call", 3) => {
                    let [p, m, t] = arr(args)?;
                    Ok(Op::NetlinkCall {
                        protocol: int_in(&p, 0, 31, "protocol")?,
                        msg: binary(m, "msg")?,
                        target: decode_target(t)?,
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
                (
                    "sysctl_read" | "sysctl_write" | "sysctl_list" | "netlink_open" | "socket_open" | "batch"
                    | "sysctl_apply" | "netlink_call" | "ping",
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

// ---------------------------------------------------------------- replies

/// The result half of a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `ok`
    Ok,
    /// `{ok, Binary}`
    Value(Vec<u8>),
    /// `{ok, [{Path, Value}]}`
    Entries(Vec<(Vec<u8>, Vec<u8>)>),
    /// `{ok, #{Key => Integer}}`
    Counters(Vec<(&'static str, u64)>),
    /// `{ok, Term}`
    Term(Term),
    /// `{ok, [Binary]}`: netlink messages, one binary each.
    Messages(Vec<Vec<u8>>),
    /// `{ok, fd}`: the descriptor went out on the fd channel.
    FdSent,
    /// `{ok, [Result]}`: the results of a batch, in order.
    Batch(Vec<Reply>),
    /// `{error, {apply_failed, Path, {Stage, Reason}, [RolledBack]}}`.
    ApplyFailed {
        path: Vec<u8>,
        error: OpError,
        rolled_back: Vec<Vec<u8>>,
    },
    /// `{ready, Version}`
    Ready(&'static str),
    /// `{log, Level, Text}`, sent with id 0.
    Log(&'static str, String),
    /// A whole `{Id, Result}` frame body made elsewhere (a namespace helper),
    /// passed on as it is.
    Frame(Vec<u8>),
    /// `{error, {Stage, Reason}}`
    Error(OpError),
}

impl From<OpError> for Reply {
    fn from(e: OpError) -> Self {
        Reply::Error(e)
    }
}

fn bin(b: &[u8]) -> Term {
    Term::from(Binary::from(b.to_vec()))
}

fn int(v: u64) -> Term {
    match i32::try_from(v) {
        Ok(small) => Term::from(FixInteger::from(small)),
        Err(_) => Term::from(BigInteger::from(v)),
    }
}

fn ok(t: Term) -> Term {
    Term::from(Tuple::from(vec![atom("ok"), t]))
}

impl Reply {
    /// The result term.
    pub fn to_term(&self) -> Term {
        match self {
            Reply::Ok => atom("ok"),
            Reply::Value(v) => ok(bin(v)),
            Reply::Entries(es) => ok(Term::from(List::from(
                es.iter()
                    .map(|(p, v)| Term::from(Tuple::from(vec![bin(p), bin(v)])))
                    .collect::<Vec<_>>(),
            ))),
            Reply::Counters(cs) => {
                let map: HashMap<Term, Term> = cs.iter().map(|(k, v)| (atom(k), int(*v))).collect();
                ok(Term::from(Map::from(map)))
            }
            Reply::Term(t) => ok(t.clone()),
            Reply::Messages(ms) => ok(Term::from(List::from(ms.iter().map(|m| bin(m)).collect::<Vec<_>>()))),
            Reply::FdSent => ok(atom("fd")),
            Reply::ApplyFailed {
                path,
                error,
                rolled_back,
            } => {
                let reason = match error.to_term() {
                    Term::Tuple(Tuple { mut elements }) if elements.len() == 2 => elements.remove(1),
                    other => other,
                };
                let rolled = List::from(rolled_back.iter().map(|p| bin(p)).collect::<Vec<_>>());
                let failed = Tuple::from(vec![atom("apply_failed"), bin(path), reason, Term::from(rolled)]);
                Term::from(Tuple::from(vec![atom("error"), Term::from(failed)]))
            }
            Reply::Batch(rs) => ok(Term::from(List::from(
                rs.iter().map(Reply::to_term).collect::<Vec<_>>(),
            ))),
            Reply::Ready(v) => Term::from(Tuple::from(vec![atom("ready"), bin(v.as_bytes())])),
            Reply::Log(level, text) => Term::from(Tuple::from(vec![atom("log"), atom(level), bin(text.as_bytes())])),
            Reply::Frame(body) => Term::decode(&body[..]).unwrap_or_else(|_| atom("undefined")),
            Reply::Error(e) => e.to_term(),
        }
    }

    /// Whether this reply reports a failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::ApplyFailed { .. })
    }
}

/// Encode `{Id, Result}` as one complete frame (length prefix included),
/// appended to `out`.
pub fn encode_reply(id: u64, reply: &Reply, out: &mut Vec<u8>) {
    if let Reply::Frame(body) = reply {
        return encode_frame(body, out);
    }
    let term = Term::from(Tuple::from(vec![int(id), reply.to_term()]));
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    if term.encode(&mut *out).is_err() {
        // Encoding into a Vec cannot fail for the terms built above; if it
        // ever did, send a well-formed error instead of a torn frame.
        out.truncate(start + 4);
        let fallback = Term::from(Tuple::from(vec![
            int(id),
            OpError::word(Stage::Decode, "encode").to_term(),
        ]));
        let _ = fallback.encode(&mut *out);
    }
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}
