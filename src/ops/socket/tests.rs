//! Unit tests of the socket module: request preparation, replies, and
//! changes sent to the kernel on `lo`.

use super::*;

fn header(len: u32, ty: u16, flags: u16, seq: u32, pid: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&len.to_ne_bytes());
    h.extend_from_slice(&ty.to_ne_bytes());
    h.extend_from_slice(&flags.to_ne_bytes());
    h.extend_from_slice(&seq.to_ne_bytes());
    h.extend_from_slice(&pid.to_ne_bytes());
    h
}

#[test]
fn requests_get_pid_zero_and_ack_flags() {
    let mut msg = header(20, 18, 0x301, 7, 1234);
    msg.extend_from_slice(&[1, 2, 3, 4]);
    msg.extend(header(16, 18, 0x5, 8, 99));
    let (out, acks) = prepare_requests(&msg).expect("valid");
    assert_eq!(acks, vec![false, true]);
    assert_eq!(&out[12..16], &[0, 0, 0, 0]);
    assert_eq!(&out[32..36], &[0, 0, 0, 0]);
    assert_eq!(out[16..20], msg[16..20]);
}

#[test]
fn only_one_acked_change_goes_at_once() {
    // RTM_NEWADDR with NLM_F_REQUEST | NLM_F_ACK (| CREATE | EXCL).
    let mut one = header(20, 20, 0x605, 1, 0);
    one.extend_from_slice(&[0; 4]);
    assert!(at_once(&one));
    // No ack asked; a dump; two messages; too short; a bad length.
    assert!(!at_once(&header(16, 20, 0x1, 1, 0)));
    assert!(!at_once(&header(16, 18, 0x305, 1, 0)));
    let mut two = one.clone();
    two.extend(header(16, 21, 0x5, 2, 0));
    assert!(!at_once(&two));
    assert!(!at_once(&one[..12]));
    assert!(!at_once(&header(8, 20, 0x5, 1, 0)));
    assert!(!at_once(&header(64, 20, 0x5, 1, 0)));
}

/// A request about link 1 (`lo`) of type `ty`, with `flags`.
fn lo_request(ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut msg = header(32, ty, flags, seq, 0);
    // struct ifinfomsg: family, pad, type, index 1, flags, change.
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(&1i32.to_ne_bytes());
    msg.extend_from_slice(&[0; 8]);
    msg
}

#[test]
fn a_change_is_answered_by_its_ack_alone() {
    let fd = netlink(libc::NETLINK_ROUTE, 0).expect("rtnetlink socket");
    let mut buf = Vec::new();
    // RTM_NEWLINK for lo that changes nothing: acked, error 0.
    let answer = change_on(fd.as_fd(), &lo_request(16, 0x5, 41), &mut buf).expect("sent");
    assert_eq!(answer, Answer::Acked);
    assert!(buf.len() >= ANSWER_ROOM, "the buffer is kept for the next change");
    // RTM_GETLINK with an ack: the link, then the ack; both come back.
    match change_on(fd.as_fd(), &lo_request(18, 0x5, 42), &mut buf).expect("sent") {
        Answer::Replies(r) => {
            assert_eq!(r.len(), 2);
            assert_eq!(nlmsg_errno(&r[1]), Some(0));
        }
        other => panic!("{other:?}"),
    }
    // RTM_DELLINK of link 0x7fffffff: no such device, the error comes back.
    let mut gone = lo_request(17, 0x5, 43);
    gone[20..24].copy_from_slice(&0x7fff_ffffi32.to_ne_bytes());
    match change_on(fd.as_fd(), &gone, &mut buf).expect("sent") {
        Answer::Replies(r) => assert_eq!(nlmsg_errno(&r[0]), Some(libc::ENODEV)),
        other => panic!("{other:?}"),
    }
    // A dump is not a change: it goes the long way, and still answers.
    match change_on(
        fd.as_fd(),
        &header(32, 18, 0x305, 44, 0)
            .into_iter()
            .chain([0; 16])
            .collect::<Vec<_>>(),
        &mut buf,
    )
    .expect("sent")
    {
        Answer::Replies(r) => assert!(r.len() >= 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn changes_in_one_send_are_answered_each() {
    let fd = netlink(libc::NETLINK_ROUTE, 0).expect("rtnetlink socket");
    let mut buf = Vec::new();
    let mut gone = lo_request(17, 0x5, 52);
    gone[20..24].copy_from_slice(&0x7fff_ffffi32.to_ne_bytes());
    let msgs = vec![lo_request(16, 0x5, 51), gone, lo_request(16, 0x5, 53)];
    let answers = changes_on(fd.as_fd(), &msgs, &mut buf).expect("sent");
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0], Answer::Acked);
    match &answers[1] {
        Answer::Replies(r) => {
            assert_eq!(r.len(), 1);
            assert_eq!(nlmsg_errno(&r[0]), Some(libc::ENODEV));
            assert_eq!(&r[0][8..12], &52u32.to_ne_bytes());
        }
        other => panic!("{other:?}"),
    }
    // The one after the failure was carried out too.
    assert_eq!(answers[2], Answer::Acked);
    // Only changes go together.
    let dump = header(32, 18, 0x305, 54, 0)
        .into_iter()
        .chain([0; 16])
        .collect::<Vec<_>>();
    assert!(changes_on(fd.as_fd(), &[dump], &mut buf).is_err());
}

#[test]
fn bad_requests_are_refused() {
    assert!(prepare_requests(&[0; 8]).is_err());
    assert!(prepare_requests(&header(8, 18, 1, 0, 0)).is_err());
    assert!(prepare_requests(&header(64, 18, 1, 0, 0)).is_err());
    let mut two = header(16, 18, 1, 0, 0);
    two.extend_from_slice(&[0; 8]);
    assert!(prepare_requests(&two).is_err());
}

#[test]
fn datagrams_split_into_messages() {
    let mut d = header(18, 16, 2, 1, 0);
    d.extend_from_slice(&[9, 9, 0, 0]);
    d.extend(header(16, 3, 2, 1, 0));
    let ms = split_messages(&d).expect("valid");
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].len(), 18);
    assert_eq!(ms[1].len(), 16);
    assert!(split_messages(&header(40, 3, 0, 0, 0)).is_err());
}

/// An RTM_GETLINK dump whose payload is a bare `struct rtgenmsg` (4 bytes,
/// as old tools send it).
fn short_link_dump(seq: u32) -> Vec<u8> {
    let mut msg = header(20, 18, 0x301, seq, 0);
    msg.extend_from_slice(&[0; 4]);
    msg
}

#[test]
fn a_strict_socket_refuses_what_a_plain_one_lets_through() {
    // The plain socket dumps; the strict one (kernel 4.20 and later, as
    // every machine here) refuses the short header with EINVAL.
    let plain = netlink_call_on(
        netlink(libc::NETLINK_ROUTE, 0).expect("socket").as_fd(),
        &short_link_dump(61),
        0,
        |_| false,
    )
    .expect("dumped");
    assert!(plain.len() >= 2, "lo and the end of the dump");
    let strict = netlink_strict(libc::NETLINK_ROUTE).expect("socket");
    let answer = netlink_call_on(strict.as_fd(), &short_link_dump(62), 0, |_| false).expect("answered");
    // The dump ends at once: NLMSG_DONE carrying -EINVAL.
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert_eq!(&answer[0][4..6], &3u16.to_ne_bytes());
    assert_eq!(&answer[0][16..20], &(-libc::EINVAL).to_ne_bytes());
}
