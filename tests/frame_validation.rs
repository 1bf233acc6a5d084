//! The codec on byte slices: framing limits, the ETF structural check and
//! request decoding, with no process and no kernel involved.

use eetf::{Atom, Binary, FixInteger, List, Term, Tuple};
use linx::dispatch::Op;
use linx::error::{OpError, Stage};
use linx::ns::Target;
use linx::ops::Outcome;
use linx::wire::{self, check_etf, decode_request, EtfError, FrameError, MAX_FRAME};

fn atom(s: &str) -> Term {
    Term::from(Atom::from(s))
}
fn bin(s: &str) -> Term {
    Term::from(Binary::from(s.as_bytes().to_vec()))
}
fn int(i: i32) -> Term {
    Term::from(FixInteger::from(i))
}
fn tuple(v: Vec<Term>) -> Term {
    Term::from(Tuple::from(v))
}
fn etf(t: &Term) -> Vec<u8> {
    let mut v = Vec::new();
    t.encode(&mut v).expect("encode");
    v
}
fn decode_err(bytes: &[u8]) -> (u64, OpError) {
    let r = decode_request(bytes).expect_err("should be rejected");
    (r.id, r.error)
}

#[test]
fn header_limits() {
    assert_eq!(wire::parse_header([0, 0, 0, 5]).unwrap(), 5);
    assert_eq!(wire::parse_header((MAX_FRAME as u32).to_be_bytes()).unwrap(), MAX_FRAME);
    assert!(matches!(
        wire::parse_header((MAX_FRAME as u32 + 1).to_be_bytes()),
        Err(FrameError::TooLarge(_))
    ));
    assert!(matches!(wire::parse_header([0xff; 4]), Err(FrameError::TooLarge(_))));
}

#[test]
fn oversized_frame_is_skipped_not_allocated() {
    // A frame one byte over the limit, then a valid one: the first is
    // refused, the second still read.
    let mut input = Vec::new();
    input.extend_from_slice(&(MAX_FRAME as u32 + 1).to_be_bytes());
    input.resize(input.len() + MAX_FRAME + 1, 7);
    wire::encode_frame(b"abc", &mut input);
    let mut r = &input[..];
    let mut buf = Vec::new();
    assert!(matches!(
        wire::read_frame(&mut r, &mut buf),
        Err(FrameError::TooLarge(_))
    ));
    assert!(buf.capacity() < 1024);
    wire::read_frame(&mut r, &mut buf).unwrap();
    assert_eq!(buf, b"abc");
    assert!(matches!(wire::read_frame(&mut r, &mut buf), Err(FrameError::Eof)));
}

#[test]
fn truncated_input_is_eof() {
    let mut buf = Vec::new();
    for input in [&[][..], &[0, 0][..], &[0, 0, 0, 9, 1, 2][..]] {
        let mut r = input;
        assert!(matches!(wire::read_frame(&mut r, &mut buf), Err(FrameError::Eof)));
    }
}

#[test]
fn etf_check_refuses_lying_lengths() {
    // LIST_EXT claiming 2^32-1 elements in a 10-byte term.
    assert_eq!(
        check_etf(&[131, 108, 0xff, 0xff, 0xff, 0xff, 106]),
        Err(EtfError::Truncated)
    );
    // BINARY_EXT claiming more bytes than follow.
    assert_eq!(check_etf(&[131, 109, 0, 0, 1, 0, 1, 2]), Err(EtfError::Truncated));
    // MAP_EXT arity overflow.
    assert_eq!(check_etf(&[131, 116, 0xff, 0xff, 0xff, 0xff]), Err(EtfError::Truncated));
    // Compressed terms, atom cache refs, pids and funs are not for us.
    for tag in [80u8, 82, 88, 103, 112, 113, 117] {
        assert_eq!(
            check_etf(&[131, tag, 0, 0, 0, 0]),
            Err(EtfError::Unsupported),
            "tag {tag}"
        );
    }
    assert_eq!(check_etf(&[130, 106]), Err(EtfError::Unsupported));
    assert_eq!(check_etf(&[131, 106, 0]), Err(EtfError::Trailing));
    assert_eq!(check_etf(&[]), Err(EtfError::Truncated));
}

#[test]
fn etf_check_bounds_depth() {
    let mut deep = Term::from(List::nil());
    for _ in 0..100 {
        deep = Term::from(List::from(vec![deep]));
    }
    assert_eq!(check_etf(&etf(&deep)), Err(EtfError::TooDeep));
    let mut ok = Term::from(List::nil());
    for _ in 0..30 {
        ok = Term::from(List::from(vec![ok]));
    }
    assert_eq!(check_etf(&etf(&ok)), Ok(()));
}

#[test]
fn decodes_every_op() {
    let cases = vec![
        (
            tuple(vec![atom("sysctl_read"), bin("kernel/ostype"), atom("self")]),
            Op::SysctlRead {
                path: b"kernel/ostype".to_vec(),
                target: Target::Current,
            },
        ),
        (
            tuple(vec![
                atom("sysctl_write"),
                bin("net/ipv4/ip_forward"),
                bin("1"),
                tuple(vec![atom("netns"), bin("blue")]),
            ]),
            Op::SysctlWrite {
                path: b"net/ipv4/ip_forward".to_vec(),
                value: b"1".to_vec(),
                target: Target::Netns("blue".into()),
                raw: false,
            },
        ),
        (
            tuple(vec![
                atom("sysctl_write"),
                bin("kernel/domainname"),
                bin(""),
                atom("self"),
                atom("raw"),
            ]),
            Op::SysctlWrite {
                path: b"kernel/domainname".to_vec(),
                value: vec![],
                target: Target::Current,
                raw: true,
            },
        ),
        (
            tuple(vec![atom("netlink_bind_fd"), int(7), int(1)]),
            Op::NetlinkBindFd { fd: 7, groups: 1 },
        ),
        (
            tuple(vec![atom("sysctl_list"), bin(""), tuple(vec![atom("pid"), int(42)])]),
            Op::SysctlList {
                path: vec![],
                target: Target::Pid(42),
                keys: false,
            },
        ),
        (
            tuple(vec![atom("sysctl_list"), bin("net"), atom("self"), atom("keys")]),
            Op::SysctlList {
                path: b"net".to_vec(),
                target: Target::Current,
                keys: true,
            },
        ),
        (
            tuple(vec![
                atom("sysctl_read"),
                bin("a"),
                tuple(vec![
                    atom("ns"),
                    Term::from(List::from(vec![bin("/proc/1/ns/net"), bin("/run/netns/x")])),
                ]),
            ]),
            Op::SysctlRead {
                path: b"a".to_vec(),
                target: Target::Ns(vec!["/proc/1/ns/net".into(), "/run/netns/x".into()]),
            },
        ),
        (
            tuple(vec![atom("netlink_open"), int(0), int(1), atom("self")]),
            Op::NetlinkOpen {
                protocol: 0,
                groups: 1,
                target: Target::Current,
            },
        ),
        (
            tuple(vec![
                atom("netlink_open"),
                int(16),
                Term::from(eetf::BigInteger::from(0xffff_ffffu32)),
                tuple(vec![atom("netns"), bin("blue")]),
            ]),
            Op::NetlinkOpen {
                protocol: 16,
                groups: u32::MAX,
                target: Target::Netns("blue".into()),
            },
        ),
        (
            tuple(vec![
                atom("socket_open"),
                int(17),
                int(3),
                int(768),
                tuple(vec![atom("pid"), int(9)]),
            ]),
            Op::SocketOpen {
                domain: 17,
                ty: 3,
                protocol: 768,
                target: Target::Pid(9),
            },
        ),
        (atom("version"), Op::Version),
        (atom("stats"), Op::Stats),
        (tuple(vec![atom("ping"), bin("x")]), Op::Ping(bin("x"))),
    ];
    for (i, (op, want)) in cases.into_iter().enumerate() {
        let id = i as i32 + 1;
        let req = decode_request(&etf(&tuple(vec![int(id), op]))).expect("decodes");
        assert_eq!(req.id, id as u64);
        assert_eq!(req.op, want);
    }
}

#[test]
fn bad_requests_name_what_is_wrong() {
    let badarg = |w| OpError::word(Stage::Badarg, w);
    let decode = |w| OpError::word(Stage::Decode, w);
    // Not ETF, not a pair, no usable id: id 0.
    assert_eq!(decode_err(b"\x83garbage"), (0, decode("badterm")));
    assert_eq!(decode_err(&etf(&atom("version"))), (0, decode("badframe")));
    assert_eq!(
        decode_err(&etf(&tuple(vec![int(-1), atom("version")]))),
        (0, decode("badframe"))
    );
    assert_eq!(
        decode_err(&etf(&tuple(vec![bin("id"), atom("version")]))),
        (0, decode("badframe"))
    );
    // With an id: answered under that id.
    let with_id = |op| decode_err(&etf(&tuple(vec![int(7), op])));
    assert_eq!(with_id(atom("launch_missiles")), (7, badarg("op")));
    assert_eq!(
        with_id(tuple(vec![atom("sysctl_read"), bin("a")])),
        (7, badarg("arity"))
    );
    assert_eq!(
        with_id(tuple(vec![atom("sysctl_list"), bin("a"), atom("self"), atom("paths")])),
        (7, badarg("form"))
    );
    assert_eq!(
        with_id(tuple(vec![atom("sysctl_read"), int(1), atom("self")])),
        (7, badarg("path"))
    );
    assert_eq!(
        with_id(tuple(vec![atom("sysctl_write"), bin("a"), int(1), atom("self")])),
        (7, badarg("value"))
    );
    for (op, what) in [
        (
            tuple(vec![atom("netlink_open"), int(32), int(0), atom("self")]),
            "protocol",
        ),
        (
            tuple(vec![atom("netlink_open"), int(-1), int(0), atom("self")]),
            "protocol",
        ),
        (
            tuple(vec![atom("netlink_open"), int(0), int(-1), atom("self")]),
            "groups",
        ),
        (
            tuple(vec![
                atom("netlink_open"),
                int(0),
                Term::from(eetf::BigInteger::from(1u64 << 32)),
                atom("self"),
            ]),
            "groups",
        ),
        (
            tuple(vec![atom("socket_open"), int(2), int(2048 | 2), int(0), atom("self")]),
            "type",
        ),
        (
            tuple(vec![atom("socket_open"), int(99), int(2), int(0), atom("self")]),
            "domain",
        ),
        (
            tuple(vec![atom("socket_open"), int(2), int(2), int(1 << 20), atom("self")]),
            "protocol",
        ),
    ] {
        assert_eq!(with_id(op), (7, badarg(what)));
    }
    for target in [
        atom("other"),
        tuple(vec![atom("pid"), int(0)]),
        tuple(vec![atom("pid"), bin("1")]),
        tuple(vec![atom("netns"), atom("blue")]),
        tuple(vec![atom("ns"), bin("/proc/1/ns/net")]),
        tuple(vec![atom("ns"), Term::from(List::from(vec![int(1)]))]),
    ] {
        assert_eq!(
            with_id(tuple(vec![atom("sysctl_read"), bin("a"), target])),
            (7, badarg("target"))
        );
    }
}

#[test]
fn replies_encode_as_id_result_frames() {
    let mut out = Vec::new();
    wire::encode_reply(5, &Outcome::Value(b"1\n".to_vec()), &mut out);
    let len = u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
    assert_eq!(len, out.len() - 4);
    let term = Term::decode(&out[4..]).unwrap();
    assert_eq!(term.to_string(), "{5,{'ok',<<49,10>>}}");
    out.clear();
    wire::encode_reply(1 << 40, &Outcome::Ok, &mut out);
    let term = Term::decode(&out[4..]).unwrap();
    assert_eq!(term.to_string(), "{1099511627776,'ok'}");
}

#[test]
fn netlink_call_decodes_and_replies_with_one_binary_per_message() {
    let op = tuple(vec![
        atom("netlink_call"),
        int(0),
        Term::from(Binary::from(vec![0u8; 16])),
        tuple(vec![atom("netns"), bin("blue")]),
    ]);
    let req = decode_request(&etf(&tuple(vec![int(3), op]))).expect("decodes");
    assert_eq!(
        req.op,
        Op::NetlinkCall {
            protocol: 0,
            msg: vec![0; 16],
            target: Target::Netns("blue".into()),
            ns_fds: Vec::new(),
            part_bytes: 0,
            strict: false,
        }
    );
    // Descriptors of other namespaces to put into the message.
    let with_fds = |fds: Vec<Term>| {
        tuple(vec![
            atom("netlink_call"),
            int(0),
            Term::from(Binary::from(vec![0u8; 24])),
            atom("self"),
            Term::from(List::from(fds)),
        ])
    };
    let fd_at = |offset: i32, t: Term| tuple(vec![int(offset), t]);
    let req = decode_request(&etf(&tuple(vec![
        int(5),
        with_fds(vec![
            fd_at(20, tuple(vec![atom("netns"), bin("red")])),
            fd_at(0, tuple(vec![atom("held"), int(7)])),
        ]),
    ])))
    .expect("decodes");
    let Op::NetlinkCall { ns_fds, .. } = req.op else {
        panic!("not a netlink call: {:?}", req.op)
    };
    assert_eq!(ns_fds, vec![(20, Target::Netns("red".into())), (0, Target::Held(7))]);
    let bad_fds = |fds| decode_err(&etf(&tuple(vec![int(6), with_fds(fds)])));
    let ns_fds_err = (6, OpError::word(Stage::Badarg, "ns_fds"));
    // The four bytes must lie inside the message.
    assert_eq!(bad_fds(vec![fd_at(21, atom("self"))]), ns_fds_err);
    assert_eq!(bad_fds(vec![fd_at(-1, atom("self"))]), ns_fds_err);
    assert_eq!(bad_fds(vec![atom("self")]), ns_fds_err);
    assert_eq!(bad_fds(vec![fd_at(0, atom("self")); 17]), ns_fds_err);
    assert_eq!(
        bad_fds(vec![fd_at(0, atom("nowhere"))]),
        (6, OpError::word(Stage::Badarg, "target"))
    );
    let bad = |op| decode_err(&etf(&tuple(vec![int(4), op])));
    let badarg = |w| OpError::word(Stage::Badarg, w);
    assert_eq!(
        bad(tuple(vec![atom("netlink_call"), int(32), bin("x"), atom("self")])),
        (4, badarg("protocol"))
    );
    assert_eq!(
        bad(tuple(vec![atom("netlink_call"), int(0), atom("x"), atom("self")])),
        (4, badarg("msg"))
    );
    assert_eq!(
        bad(tuple(vec![atom("netlink_call"), int(0), bin("x")])),
        (4, badarg("arity"))
    );
    let mut out = Vec::new();
    wire::encode_reply(9, &Outcome::Messages(vec![b"ab".to_vec(), b"c".to_vec()]), &mut out);
    let term = Term::decode(&out[4..]).unwrap();
    assert_eq!(term.to_string(), "{9,{'ok',[<<97,98>>,<<99>>]}}");
    // Replies in parts: a sixth element, at most one frame's size.
    let with_parts = |n: Term| {
        tuple(vec![
            atom("netlink_call"),
            int(0),
            Term::from(Binary::from(vec![0u8; 16])),
            atom("self"),
            Term::from(List::nil()),
            n,
        ])
    };
    let req = decode_request(&etf(&tuple(vec![int(7), with_parts(int(65536))]))).expect("decodes");
    let Op::NetlinkCall { part_bytes, .. } = &req.op else {
        panic!("not a netlink call: {:?}", req.op)
    };
    assert_eq!(*part_bytes, 65536);
    // What a C-node sends a helper says the same.
    assert_eq!(decode_request(&wire::encode_request(&req)).expect("decodes").op, req.op);
    let part_err = (7, badarg("part_bytes"));
    assert_eq!(decode_err(&etf(&tuple(vec![int(7), with_parts(int(-1))]))), part_err);
    assert_eq!(
        decode_err(&etf(&tuple(vec![int(7), with_parts(int(16 << 20 | 1))]))),
        part_err
    );
    assert_eq!(decode_err(&etf(&tuple(vec![int(7), with_parts(atom("x"))]))), part_err);
    // Strict checking asked for: a seventh element, a boolean; what a
    // C-node sends a helper says it too, with or without parts.
    for n in [0, 65536] {
        let mut strict = with_parts(int(n));
        if let Term::Tuple(t) = &mut strict {
            t.elements.push(atom("true"));
        }
        let req = decode_request(&etf(&tuple(vec![int(8), strict]))).expect("decodes");
        let Op::NetlinkCall { strict, part_bytes, .. } = &req.op else {
            panic!("not a netlink call: {:?}", req.op)
        };
        assert!(*strict);
        assert_eq!(*part_bytes, n as usize);
        assert_eq!(decode_request(&wire::encode_request(&req)).expect("decodes").op, req.op);
    }
    let mut not_bool = with_parts(int(0));
    if let Term::Tuple(t) = &mut not_bool {
        t.elements.push(atom("yes"));
    }
    assert_eq!(decode_err(&etf(&tuple(vec![int(8), not_bool]))), (8, badarg("strict")));
    let mut out = Vec::new();
    wire::reply::encode_part(9, &[b"ab".to_vec()], &mut out);
    let term = Term::decode(&out[4..]).unwrap();
    assert_eq!(term.to_string(), "{9,'more',[<<97,98>>]}");
}

/// Replies of netlink messages are written without building a term: they
/// decode to the terms the generic encoder makes, for ids of every size
/// and lists of any length, and the frame's length prefix is right.
#[test]
fn netlink_replies_encode_as_their_terms() {
    let lists: Vec<Vec<Vec<u8>>> = vec![
        vec![],
        vec![vec![]],
        vec![b"ab".to_vec(), vec![0; 300], vec![7; 70_000]],
    ];
    for id in [1u64, 255, 256, 0x7fff_ffff, 0x8000_0000, u64::MAX] {
        for ms in &lists {
            let mut out = vec![0xee];
            wire::encode_reply(id, &Outcome::Messages(ms.clone()), &mut out);
            let mut expected = vec![0xee];
            wire::reply::encode_term_frame(id, wire::outcome_term(&Outcome::Messages(ms.clone())), &mut expected);
            assert_eq!(
                u32::from_be_bytes([out[1], out[2], out[3], out[4]]) as usize,
                out.len() - 5
            );
            assert_eq!(Term::decode(&out[5..]).unwrap(), Term::decode(&expected[5..]).unwrap());
            let mut part = Vec::new();
            wire::reply::encode_part(id, ms, &mut part);
            let Term::Tuple(Tuple { elements }) = Term::decode(&part[4..]).unwrap() else {
                panic!("not a tuple")
            };
            let Term::Tuple(Tuple { elements: reply }) = Term::decode(&expected[5..]).unwrap() else {
                panic!("not a tuple")
            };
            let Term::Tuple(Tuple { elements: ok }) = &reply[1] else {
                panic!("not {{ok, _}}")
            };
            assert_eq!(elements, vec![reply[0].clone(), atom("more"), ok[1].clone()]);
        }
    }
}

#[test]
fn dist_check_accepts_pids_and_references_only_there() {
    let pid = Term::from(eetf::Pid::new("a@b", 1, 0, 1));
    let r = Term::from(eetf::Reference {
        node: Atom::from("a@b"),
        id: vec![1, 2, 3],
        creation: 1,
    });
    let ctrl = tuple(vec![int(6), pid, atom(""), atom("linx")]);
    let msg = tuple(vec![atom("$gen_call"), tuple(vec![r.clone(), r]), atom("version")]);
    let mut body = etf(&ctrl);
    body.extend(etf(&msg));
    assert_eq!(linx::cnode::dist::check_dist(&body), Ok(()));
    // The port protocol never accepts them.
    assert_eq!(check_etf(&etf(&msg)), Err(EtfError::Unsupported));
    // Three terms are one too many; a truncated pid is refused.
    let mut three = body.clone();
    three.extend(etf(&atom("x")));
    assert_eq!(linx::cnode::dist::check_dist(&three), Err(EtfError::Trailing));
    assert!(linx::cnode::dist::check_dist(&body[..body.len() - 3]).is_err());
}
