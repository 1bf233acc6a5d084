//! What a target lets a request reach, through the port binary, in real
//! namespaces (`unshare -n`, `ip`, `nsenter` as oracles): writes outside
//! `net/` through a target that enters only a network namespace, a policy
//! without `self`, partial writes, and apply's rollback of cascading keys.

mod harness;

use eetf::Term;
use harness::*;
use std::process::{Child, Command, Stdio};

/// A process alone in a fresh network namespace, killed on drop.
struct NetnsProcess(Child);

impl NetnsProcess {
    fn start() -> Self {
        Self::start_with(&["-n"])
    }

    /// `unshare FLAGS sleep 600`, once its namespaces exist.
    fn start_with(flags: &[&str]) -> Self {
        let child = Command::new("unshare")
            .args(flags)
            .args(["sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare -n (root needed)");
        let me = NetnsProcess(child);
        // unshare execs sleep once the namespace exists: wait for that.
        let own = std::fs::read_link("/proc/self/ns/net").unwrap();
        // A deadline, not a count of tries: a loaded machine takes long.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", me.pid())).unwrap_or_default();
            let net = std::fs::read_link(format!("/proc/{}/ns/net", me.pid())).ok();
            if comm.trim() == "sleep" && net.is_some_and(|n| n != own) {
                return me;
            }
            std::thread::yield_now();
        }
        panic!("unshare -n did not start")
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    fn target(&self) -> Term {
        tuple(vec![atom("pid"), int(self.pid())])
    }

    /// A command run inside the namespace; its trimmed output.
    fn sh(&self, cmd: &str) -> String {
        let out = Command::new("nsenter")
            .args(["-t", &self.pid().to_string(), "-n", "sh", "-c", cmd])
            .output()
            .expect("nsenter");
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for NetnsProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write(path: &str, value: &str, target: Term) -> Term {
    tuple(vec![atom("sysctl_write"), bin(path), bin(value), target])
}

fn read(path: &str, target: Term) -> Term {
    tuple(vec![atom("sysctl_read"), bin(path), target])
}

fn apply(target: Term, settings: &[(&str, &str)]) -> Term {
    let pairs = settings.iter().map(|(p, v)| tuple(vec![bin(p), bin(v)])).collect();
    tuple(vec![atom("sysctl_apply"), target, list(pairs)])
}

fn host(path: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{path}")).unwrap()
}

#[test]
fn writes_outside_net_refused_where_only_the_netns_is_entered() {
    let ns = NetnsProcess::start();
    let mut p = Port::start();
    let hostname = host("kernel/hostname");
    let not_in_target = "{'error',{'write','not_in_target'}}";
    assert_eq!(
        p.call(1, write("kernel/hostname", "linx-x", ns.target())),
        format!("{{1,{not_in_target}}}")
    );
    assert_eq!(host("kernel/hostname"), hostname, "the host's name is untouched");
    // An apply is refused before it writes anything.
    let before = ns.sh("sysctl -n net.core.somaxconn");
    assert_eq!(
        p.call(
            2,
            apply(ns.target(), &[("net/core/somaxconn", "1234"), ("kernel/hostname", "x")])
        ),
        format!(
            "{{2,{{'error',{{'apply_failed',{},{{'write','not_in_target'}},[]}}}}}}",
            bin_str("kernel/hostname")
        )
    );
    assert_eq!(ns.sh("sysctl -n net.core.somaxconn"), before);
    // In a batch, only the write step outside net/ is refused.
    let steps = list(vec![
        tuple(vec![atom("sysctl_write"), bin("kernel/hostname"), bin("x")]),
        tuple(vec![atom("sysctl_read"), bin("net/core/somaxconn")]),
    ]);
    assert_eq!(
        p.call(3, tuple(vec![atom("batch"), ns.target(), steps])),
        format!(
            "{{3,{{'ok',[{not_in_target},{{'ok',{}}}]}}}}",
            bin_str(&format!("{before}\n"))
        )
    );
    // Reads are not refused; net/ writes are served.
    assert_eq!(
        p.call(4, read("kernel/hostname", ns.target())),
        format!("{{4,{{'ok',{}}}}}", bin_str(&hostname))
    );
    assert_eq!(p.call(5, write("net/core/somaxconn", "1234", ns.target())), "{5,'ok'}");
    assert_eq!(ns.sh("sysctl -n net.core.somaxconn"), "1234");
    // {host_keys, Target}: the caller means it (the same value, written back).
    let domain = host("kernel/domainname");
    let keys = tuple(vec![atom("host_keys"), ns.target()]);
    assert_eq!(
        p.call(6, write("kernel/domainname", domain.trim_end(), keys)),
        "{6,'ok'}"
    );
    assert_eq!(host("kernel/domainname"), domain);
}

#[test]
fn a_policy_without_self_refuses_every_form_of_the_own_namespaces() {
    let ns = NetnsProcess::start();
    let mut p = Port::start_with(&["--allow-targets", "ns,pid"]);
    let refused = "{'error',{'policy','target'}}";
    let own_pid = tuple(vec![atom("pid"), int(p.child.id() as i32)]);
    let no_files = tuple(vec![atom("ns"), list(vec![])]);
    let own_file = tuple(vec![atom("ns"), list(vec![bin("/proc/self/ns/net")])]);
    for (id, target) in [(1, own_pid), (2, no_files), (3, own_file), (4, atom("self"))] {
        assert_eq!(p.call(id, read("kernel/ostype", target)), format!("{{{id},{refused}}}"));
    }
    let ok = p.call(5, read("net/core/somaxconn", ns.target()));
    assert!(ok.starts_with("{5,{'ok',"), "{ok}");
    // Sockets too: a socket in the host's network namespace is refused.
    let host_pid = tuple(vec![atom("pid"), int(std::process::id() as i32)]);
    let open = tuple(vec![atom("netlink_open"), int(0), int(0), host_pid]);
    assert_eq!(p.call(6, open), format!("{{6,{refused}}}"));
}

#[test]
fn a_partial_write_is_reported_and_rolled_back_by_apply() {
    let ns = NetnsProcess::start();
    let mut p = Port::start();
    let before = ns.sh("sysctl -n net.core.somaxconn");
    // The kernel takes "77 " of "77 5" and sets 77.
    assert_eq!(
        p.call(1, write("net/core/somaxconn", "77 5", ns.target())),
        "{1,{'error',{'write',{'partial',3,4}}}}"
    );
    assert_eq!(ns.sh("sysctl -n net.core.somaxconn"), "77");
    ns.sh(&format!("sysctl -q -w net.core.somaxconn={before}"));
    assert_eq!(
        p.call(2, apply(ns.target(), &[("net/core/somaxconn", "77 5")])),
        format!(
            "{{2,{{'error',{{'apply_failed',{k},{{'write',{{'partial',3,4}}}},[{k}]}}}}}}",
            k = bin_str("net/core/somaxconn")
        )
    );
    assert_eq!(ns.sh("sysctl -n net.core.somaxconn"), before);
}

#[test]
fn apply_restores_the_keys_a_write_cascaded_to() {
    let ns = NetnsProcess::start();
    let mut p = Port::start();
    ns.sh("ip link add v0 type veth peer name v1");
    ns.sh("sysctl -q -w net.ipv4.conf.all.forwarding=0 && sysctl -q -w net.ipv4.conf.v0.forwarding=1");
    // all=1 sets every interface; the bad somaxconn fails; the rollback
    // writes all=0, which clears v0 as well, so v0 must be restored too.
    let reply = p.call(
        1,
        apply(
            ns.target(),
            &[("net/ipv4/conf/all/forwarding", "1"), ("net/core/somaxconn", "abc")],
        ),
    );
    let failed = format!(
        "{{1,{{'error',{{'apply_failed',{},{{'write','einval'}},",
        bin_str("net/core/somaxconn")
    );
    assert!(reply.starts_with(&failed), "{reply}");
    assert!(reply.contains(&bin_str("net/ipv4/conf/all/forwarding")), "{reply}");
    assert!(reply.contains(&bin_str("net/ipv4/conf/v0/forwarding")), "{reply}");
    assert_eq!(ns.sh("sysctl -n net.ipv4.conf.all.forwarding"), "0");
    assert_eq!(ns.sh("sysctl -n net.ipv4.conf.v0.forwarding"), "1");
    assert_eq!(ns.sh("sysctl -n net.ipv4.conf.v1.forwarding"), "0");
    assert_eq!(ns.sh("sysctl -n net.ipv4.ip_forward"), "0");
}

#[test]
fn namespace_helpers_are_held_to_the_worker_limit() {
    // Targets with a user namespace each need a helper process.
    let targets: Vec<NetnsProcess> = (0..8).map(|_| NetnsProcess::start_with(&["-U", "-n"])).collect();
    let mut p = Port::start_with(&["--max-workers", "3"]);
    for (i, t) in targets.iter().enumerate() {
        let id = i as i32 + 1;
        let reply = p.call(id, read("net/core/somaxconn", t.target()));
        assert!(reply.starts_with(&format!("{{{id},{{'ok',")), "{reply}");
    }
    // An evicted helper leaves once it reads the end of its stdin: wait
    // for that, within a bound far below the idle time (10 s) after which
    // helpers would leave anyway.
    let helpers = |p: &mut Port, id| {
        let stats = p.call(id, atom("stats"));
        stats
            .split("'helpers'=>")
            .nth(1)
            .and_then(|rest| rest.split([',', '}']).next())
            .and_then(|n| n.parse::<u32>().ok())
            .expect("a helpers counter")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut id = 100;
    while helpers(&mut p, id) > 3 {
        assert!(std::time::Instant::now() < deadline, "more than 3 helpers alive");
        id += 1;
        std::thread::yield_now();
    }
}

#[test]
fn more_namespaces_than_workers_one_after_another() {
    let targets: Vec<NetnsProcess> = (0..12).map(|_| NetnsProcess::start()).collect();
    let mut p = Port::start_with(&["--max-workers", "4"]);
    for round in 0..2 {
        for (i, t) in targets.iter().enumerate() {
            let id = (round * 100 + i) as i32 + 1;
            let reply = p.call(id, read("net/core/somaxconn", t.target()));
            assert!(reply.starts_with(&format!("{{{id},{{'ok',")), "{reply}");
        }
        let own = p.call(1000 + round as i32, read("kernel/ostype", atom("self")));
        assert!(own.contains("'ok'"), "{own}");
    }
}

/// The namespace helpers the port `port` runs now (its children started
/// with `--ns-helper`).
fn helper_pids(port: u32) -> Vec<i32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{port}/task"))
        .expect("tasks")
        .flatten()
    {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for pid in children.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmdline.windows(11).any(|w| w == b"--ns-helper") {
                pids.push(pid);
            }
        }
    }
    pids
}

fn signal(pid: i32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

/// The id of a reply `{Id, Result}`, as printed.
fn reply_id(reply: &str) -> i32 {
    reply[1..]
        .split(',')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("an id")
}

#[test]
fn a_stopped_helper_stalls_only_its_own_target_and_is_replaced() {
    let rootless = NetnsProcess::start_with(&["-U", "-n"]);
    let other = NetnsProcess::start();
    let mut p = Port::start_with(&["--liveness-ms", "300"]);
    let first = p.call(1, read("net/core/somaxconn", rootless.target()));
    assert!(first.starts_with("{1,{'ok',"), "{first}");
    let [helper] = helper_pids(p.child.id())[..] else {
        panic!("one helper expected")
    };
    signal(helper, "-STOP");
    // 40 writes of 60 kB for the stopped helper: far more than its pipe
    // and its queue hold.
    let value = "1".repeat(60_000);
    for id in 100..140 {
        p.send(&req(id, write("net/ipv4/ip_default_ttl", &value, rootless.target())));
    }
    // The port still reads: the host and another netns are answered.
    let started = std::time::Instant::now();
    p.send(&req(2, read("kernel/ostype", atom("self"))));
    p.send(&req(3, read("net/core/somaxconn", other.target())));
    let mut answered = std::collections::HashMap::new();
    while !(answered.contains_key(&2) && answered.contains_key(&3)) {
        let reply = p.recv().to_string();
        answered.insert(reply_id(&reply), reply);
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "other targets waited {took:?}"
    );
    assert!(
        answered[&2].contains("'ok'") && answered[&3].contains("'ok'"),
        "{answered:?}"
    );
    // The flooded target's requests: refused at once for room, or failed
    // when the silent helper is killed (after about twice 300 ms).
    while (100..140).any(|id| !answered.contains_key(&id)) {
        let reply = p.recv().to_string();
        answered.insert(reply_id(&reply), reply);
    }
    let busy = (100..140)
        .filter(|id| answered[id].contains("{'busy','helper'}"))
        .count();
    let hung = (100..140)
        .filter(|id| answered[id].contains("{'thread','hung'}"))
        .count();
    assert!(busy > 0 && hung > 0 && busy + hung == 40, "{answered:?}");
    // Replaced: the target is served by a new helper (the kill's notice,
    // id 0, may come first).
    let mut call = |id: i32, op: Term| {
        p.send(&req(id, op));
        loop {
            let reply = p.recv().to_string();
            if reply_id(&reply) == id {
                return reply;
            }
            assert!(reply.starts_with("{0,{'log','warning',"), "{reply}");
        }
    };
    let again = call(4, read("net/core/somaxconn", rootless.target()));
    assert!(again.starts_with("{4,{'ok',"), "{again}");
    let stats = call(5, atom("stats"));
    assert!(stats.contains("'helpers_hung'=>1"), "{stats}");
    assert!(!helper_pids(p.child.id()).contains(&helper));
}
