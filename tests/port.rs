//! The `linx_port` binary as a black box: frames in, frames out.

mod harness;

use eetf::{Binary, Term};
use harness::*;
use std::time::{Duration, Instant};

#[test]
fn ready_then_ops_then_clean_exit_on_eof() {
    let mut p = Port::start();
    p.send(&req(1, atom("version")));
    assert_eq!(
        p.recv().to_string(),
        format!("{{1,{{'ok',{}}}}}", bin_str(env!("CARGO_PKG_VERSION")))
    );
    p.send(&req(2, tuple(vec![atom("ping"), atom("hello")])));
    assert_eq!(p.recv().to_string(), "{2,{'ok','hello'}}");
    p.send(&req(
        3,
        tuple(vec![
            atom("sysctl_read"),
            Term::from(Binary::from(b"kernel/ostype".to_vec())),
            atom("self"),
        ]),
    ));
    assert_eq!(p.recv().to_string(), format!("{{3,{{'ok',{}}}}}", bin_str("Linux\n")));

    // End of input: exit status 0, promptly.
    drop(p.stdin.take());
    let start = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "port did not exit on EOF");
        std::thread::yield_now();
    }
}

#[test]
fn malformed_frames_get_error_replies_and_the_port_goes_on() {
    let mut p = Port::start();
    p.send_frame(b"");
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send_frame(&[131, 104, 2, 97]); // truncated {_, _}
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send_frame(&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2]);
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send(&tuple(vec![atom("a"), atom("version")]));
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badframe'}}}");
    p.send(&req(9, tuple(vec![atom("sysctl_read")])));
    assert_eq!(p.recv().to_string(), "{9,{'error',{'badarg','arity'}}}");
    p.send(&req(
        10,
        tuple(vec![
            atom("sysctl_read"),
            Term::from(Binary::from(b"../../etc/passwd".to_vec())),
            atom("self"),
        ]),
    ));
    assert_eq!(p.recv().to_string(), "{10,{'error',{'badarg','path'}}}");

    // A length prefix over the limit: refused, skipped, the stream stays in step.
    let big = (16u32 << 20) + 1;
    let mut raw = big.to_be_bytes().to_vec();
    raw.resize(4 + big as usize, 0x41);
    p.send_raw(&raw);
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','too_large'}}}");

    // An oversized request whose head holds its id is refused to its caller.
    for id in [12i32, 70_000] {
        let mut v = Vec::new();
        let huge = Term::from(Binary::from(vec![0x42; big as usize]));
        req(id, tuple(vec![atom("ping"), huge])).encode(&mut v).unwrap();
        p.send_frame(&v);
        assert_eq!(
            p.recv().to_string(),
            format!("{{{id},{{'error',{{'decode','too_large'}}}}}}")
        );
    }

    p.send(&req(11, atom("version")));
    assert_eq!(
        p.recv().to_string(),
        format!("{{11,{{'ok',{}}}}}", bin_str(env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn huge_prefix_then_eof_exits_without_allocating() {
    let mut p = Port::start();
    p.send_raw(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    drop(p.stdin.take());
    let status = p.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
