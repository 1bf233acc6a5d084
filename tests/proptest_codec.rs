//! Property tests of the codec: requests built as the Erlang side builds
//! them decode to the same typed request; every reply shape encodes as one
//! well-formed frame carrying the term the protocol documents; the ETF check
//! accepts every term of the kinds a request can hold and never panics.

mod common;

use common::*;
use eetf::{Map, Term};
use linx::dispatch::{Op, Request, MAX_BATCH};
use linx::error::{OpError, Reason, Stage};
use linx::ops::Outcome;
use linx::wire::{self, check_etf, decode_request, EtfError};
use nix::errno::Errno;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::HashMap;

// ---------------------------------------------------------------- replies

const ERRNOS: [(Errno, &str); 12] = [
    (Errno::EACCES, "eacces"),
    (Errno::ENOENT, "enoent"),
    (Errno::EINVAL, "einval"),
    (Errno::ESRCH, "esrch"),
    (Errno::EPERM, "eperm"),
    (Errno::ELOOP, "eloop"),
    (Errno::EXDEV, "exdev"),
    (Errno::EFBIG, "efbig"),
    (Errno::ENOTCONN, "enotconn"),
    (Errno::ENAMETOOLONG, "enametoolong"),
    (Errno::EPROTONOSUPPORT, "eprotonosupport"),
    (Errno::UnknownErrno, "eunknown"),
];
const STAGES: [(Stage, &str); 17] = [
    (Stage::Read, "read"),
    (Stage::Write, "write"),
    (Stage::List, "list"),
    (Stage::OpenNs, "open_ns"),
    (Stage::Unshare, "unshare"),
    (Stage::Setns, "setns"),
    (Stage::Thread, "thread"),
    (Stage::Open, "open"),
    (Stage::Socket, "socket"),
    (Stage::Bind, "bind"),
    (Stage::Setsockopt, "setsockopt"),
    (Stage::SendFd, "send_fd"),
    (Stage::Decode, "decode"),
    (Stage::Badarg, "badarg"),
    (Stage::Busy, "busy"),
    (Stage::Panic, "panic"),
    (Stage::Policy, "policy"),
];
const WORDS: [&str; 7] = ["path", "target", "value", "badterm", "badframe", "too_large", "queue"];
const COUNTERS: [&str; 5] = ["requests", "errors", "bad_frames", "workers", "uptime_ms"];
const LEVELS: [&str; 4] = ["error", "warning", "notice", "info"];

fn any_error() -> impl Strategy<Value = OpError> {
    let reason = prop_oneof![
        (0..ERRNOS.len()).prop_map(|i| Reason::Errno(ERRNOS[i].0)),
        (0..WORDS.len()).prop_map(|i| Reason::Word(WORDS[i])),
        "\\PC{0,40}".prop_map(Reason::Text),
        (0..1usize << 20, 0..1usize << 20).prop_map(|(written, total)| Reason::Partial { written, total }),
    ];
    let plain = (0..STAGES.len(), reason).prop_map(|(s, reason)| OpError {
        stage: STAGES[s].0,
        reason,
    });
    // Some of them as the failure of a namespace named in a message.
    (plain, proptest::option::of(0..1usize << 16))
        .prop_map(|(e, at)| at.map_or(e.clone(), |offset| OpError::ns_fd(offset, e)))
}

fn any_reply() -> impl Strategy<Value = Outcome> {
    let leaf = prop_oneof![
        Just(Outcome::Ok),
        vec(any::<u8>(), 0..64).prop_map(Outcome::Value),
        vec((vec(any::<u8>(), 0..30), vec(any::<u8>(), 0..30)), 0..10).prop_map(Outcome::Entries),
        vec(any::<u64>(), 0..=COUNTERS.len())
            .prop_map(|vs| Outcome::Counters(COUNTERS.iter().copied().zip(vs).collect())),
        any_term().prop_map(Outcome::Echo),
        Just(Outcome::FdSent),
        vec(vec(any::<u8>(), 0..40), 0..5).prop_map(Outcome::Messages),
        any_error().prop_map(Outcome::Error),
        (vec(any::<u8>(), 0..30), any_error(), vec(vec(any::<u8>(), 0..30), 0..4)).prop_map(
            |(path, error, rolled_back)| Outcome::ApplyFailed {
                path,
                error,
                rolled_back
            }
        ),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| vec(inner, 0..6).prop_map(Outcome::Batch))
}

/// What the port's writer writes.
#[derive(Debug, Clone)]
enum Message {
    /// `{Id, Result}` for an outcome.
    Result(u64, Outcome),
    /// `{0, {ready, Version}}`.
    Ready,
    /// `{0, {log, Level, Text}}`.
    Log(&'static str, String),
    /// A body a namespace helper encoded: it goes out as it is.
    Relayed(Vec<u8>),
}

impl Message {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Result(id, r) => wire::encode_reply(*id, r, out),
            Message::Ready => wire::reply::encode_term_frame(0, wire::reply::ready_term(linx::dispatch::VERSION), out),
            Message::Log(level, text) => wire::reply::encode_term_frame(0, wire::reply::log_term(level, text), out),
            Message::Relayed(body) => wire::reply::encode_relayed(body, out),
        }
    }
}

/// A message and the whole `{Id, Result}` term its frame must carry.
fn any_message() -> impl Strategy<Value = (Message, Term)> {
    prop_oneof![
        4 => (any_id(), any_reply()).prop_map(|(id, r)| {
            let want = tuple(vec![int(i128::from(id)), expected(&r)]);
            (Message::Result(id, r), want)
        }),
        1 => (any_id(), any_reply()).prop_map(|(inner_id, r)| {
            let want = tuple(vec![int(i128::from(inner_id)), expected(&r)]);
            (Message::Relayed(etf(&want)), want)
        }),
        1 => Just((Message::Ready, tuple(vec![int(0), tuple(vec![atom("ready"), bin(linx::dispatch::VERSION.as_bytes())])]))),
        1 => (0..LEVELS.len(), "\\PC{0,60}").prop_map(|(l, text)| {
            let want = tuple(vec![int(0), tuple(vec![atom("log"), atom(LEVELS[l]), bin(text.as_bytes())])]);
            (Message::Log(LEVELS[l], text), want)
        }),
    ]
}

/// The result term of a reply, written from the protocol description.
fn expected(r: &Outcome) -> Term {
    let ok = |t| tuple(vec![atom("ok"), t]);
    match r {
        Outcome::Ok => atom("ok"),
        Outcome::Value(v) => ok(bin(v)),
        Outcome::Entries(es) => ok(list(es.iter().map(|(p, v)| tuple(vec![bin(p), bin(v)])).collect())),
        Outcome::Counters(cs) => ok(Term::from(Map::from(
            cs.iter()
                .map(|(k, v)| (atom(k), int(i128::from(*v))))
                .collect::<HashMap<_, _>>(),
        ))),
        Outcome::Echo(t) => ok(t.clone()),
        Outcome::FdSent => ok(atom("fd")),
        Outcome::Messages(ms) => ok(list(ms.iter().map(|m| bin(m)).collect())),
        Outcome::Batch(rs) => ok(list(rs.iter().map(expected).collect())),
        Outcome::ApplyFailed {
            path,
            error,
            rolled_back,
        } => tuple(vec![
            atom("error"),
            tuple(vec![
                atom("apply_failed"),
                bin(path),
                error_term(error),
                list(rolled_back.iter().map(|p| bin(p)).collect()),
            ]),
        ]),
        Outcome::Error(e) => tuple(vec![atom("error"), error_term(e)]),
        // A reply added since: any_reply() does not make it yet.
        #[allow(unreachable_patterns)]
        other => panic!("no expected term for {other:?}"),
    }
}

/// `{Stage, Reason}`, or `{ns_fd, Offset, {Stage, Reason}}`.
fn error_term(OpError { stage, reason }: &OpError) -> Term {
    let stage = STAGES.iter().find(|(s, _)| s == stage).expect("a known stage").1;
    let reason = match reason {
        Reason::NsFd { offset, inner } => return tuple(vec![atom("ns_fd"), int(*offset as i128), error_term(inner)]),
        Reason::Errno(e) => atom(ERRNOS.iter().find(|(x, _)| x == e).expect("a known errno").1),
        Reason::Word(w) => atom(w),
        Reason::Text(t) => bin(t.as_bytes()),
        Reason::Partial { written, total } => tuple(vec![atom("partial"), int(*written as i128), int(*total as i128)]),
    };
    tuple(vec![atom(stage), reason])
}

/// Valid request bytes with some bytes changed, some cut off or some added.
fn mutated_request() -> impl Strategy<Value = Vec<u8>> {
    (
        any_id(),
        any_op(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
        vec(any::<u8>(), 0..4),
    )
        .prop_map(|(id, op, flips, cut, tail)| {
            let mut b = etf(&request_term(&Request { id, op }));
            for (at, v) in flips {
                let i = at.index(b.len());
                b[i] = v;
            }
            b.truncate(1 + cut.index(b.len()));
            b.extend_from_slice(&tail);
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// What the Erlang side sends decodes to the request it meant.
    #[test]
    fn requests_round_trip(id in any_id(), op in any_op()) {
        let req = Request { id, op };
        let bytes = etf(&request_term(&req));
        prop_assert_eq!(check_etf(&bytes), Ok(()));
        prop_assert_eq!(decode_request(&bytes), Ok(req));
    }

    /// What a C-node sends a namespace helper is the frame the Erlang side
    /// would have sent for the same request.
    #[test]
    fn encoded_requests_decode_back(id in any_id(), op in any_op()) {
        let req = Request { id, op };
        let bytes = wire::encode_request(&req);
        prop_assert_eq!(check_etf(&bytes), Ok(()));
        prop_assert_eq!(Term::decode(&bytes[..]).expect("decodes"), normal(request_term(&req)));
        prop_assert_eq!(decode_request(&bytes), Ok(req));
    }

    /// Every reply is one frame: a length prefix that matches, then the
    /// term `{Id, Result}` with the documented shape. Frames append, so two
    /// in a row read back as two frames.
    #[test]
    fn replies_are_single_frames(a in any_message(), b in any_message()) {
        let mut out = vec![];
        for (m, _) in [&a, &b] {
            let before = out.len();
            m.encode(&mut out);
            prop_assert!(out.len() > before + 4);
        }
        let mut cursor = std::io::Cursor::new(&out);
        for (_, want) in [&a, &b] {
            let mut body = Vec::new();
            wire::read_frame(&mut cursor, &mut body).expect("a whole frame");
            prop_assert_eq!(check_etf(&body), Ok(()));
            prop_assert_eq!(&Term::decode(&body[..]).expect("decodes"), want);
        }
        prop_assert_eq!(cursor.position() as usize, out.len());
    }

    /// The ETF check accepts every term a request may hold.
    #[test]
    fn etf_check_accepts_what_eetf_encodes(t in any_term()) {
        let bytes = etf(&t);
        prop_assert_eq!(check_etf(&bytes), Ok(()));
        prop_assert_eq!(Term::decode(&bytes[..]).expect("decodes"), t);
    }

    /// Arbitrary bytes: no panic, and nothing decodes that the check refused.
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in vec(any::<u8>(), 0..200), versioned in any::<bool>()) {
        if versioned && !bytes.is_empty() {
            bytes[0] = 131;
        }
        let checked = check_etf(&bytes);
        if decode_request(&bytes).is_ok() {
            prop_assert_eq!(checked, Ok(()));
        }
    }

    /// Damaged encodings of valid requests: no panic; a request that still
    /// decodes passed the check.
    #[test]
    fn damaged_requests_never_panic(bytes in mutated_request()) {
        let checked = check_etf(&bytes);
        match decode_request(&bytes) {
            Ok(_) => prop_assert_eq!(checked, Ok(())),
            Err(rejected) => prop_assert!(matches!(rejected.error.stage, Stage::Decode | Stage::Badarg)),
        }
    }
}

/// A batch of exactly `MAX_BATCH` steps decodes; one more is refused.
#[test]
fn batch_limit() {
    let step = tuple(vec![atom("sysctl_read"), bin(b"kernel/ostype")]);
    for (n, ok) in [(MAX_BATCH, true), (MAX_BATCH + 1, false)] {
        let t = tuple(vec![
            int(1),
            tuple(vec![atom("batch"), atom("self"), list(vec![step.clone(); n])]),
        ]);
        let r = decode_request(&etf(&t));
        if ok {
            assert!(matches!(r, Ok(Request { op: Op::Batch { ref ops, .. }, .. }) if ops.len() == n));
        } else {
            assert_eq!(r.unwrap_err().error, OpError::badarg("batch"));
        }
    }
}

/// `BIT_BINARY_EXT` must say how many bits of its last byte count (1 to 8,
/// as Erlang requires); 0 or more than 8 would make the decoder shift out
/// of range.
#[test]
fn bit_binary_tail_bits_checked() {
    for bits in [0u8, 9, 255] {
        let b = [131, 104, 2, 97, 1, 77, 0, 0, 0, 1, bits, 0xff];
        assert_eq!(check_etf(&b), Err(EtfError::Unsupported), "bits {bits}");
        assert!(decode_request(&b).is_err());
    }
    for bits in 1..=8u8 {
        assert_eq!(check_etf(&[131, 77, 0, 0, 0, 1, bits, 0x80]), Ok(()), "bits {bits}");
    }
    // An empty bitstring has no last byte.
    assert_eq!(check_etf(&[131, 77, 0, 0, 0, 0, 0]), Ok(()));
}
