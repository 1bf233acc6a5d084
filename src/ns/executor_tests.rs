//! Tests of the executor: replies, panics, queue and worker limits.

use super::*;
use crate::ns::helper::Frame;

/// Results into a channel the test reads.
struct ToChannel(Mutex<mpsc::Sender<(u64, Outcome)>>);

impl Sink for ToChannel {
    fn result(&self, id: u64, outcome: Outcome) {
        let _ = self.0.lock().unwrap().send((id, outcome));
    }
    fn relay(&self, _: u64, _: Frame) {}
    fn notice(&self, _: &str) {}
}

fn executor(cfg: Config) -> (Executor<ToChannel>, mpsc::Receiver<(u64, Outcome)>) {
    let (tx, rx) = mpsc::channel();
    let ex = Executor::new(cfg, Arc::new(ToChannel(Mutex::new(tx))), Arc::new(Stats::default()));
    (ex, rx)
}

/// The default config but for the limit a test is about: at most `n`
/// jobs queued on one worker.
fn queue_len(n: usize) -> Config {
    Config {
        queue_len: n,
        ..Config::default()
    }
}

/// The default config but for at most `n` workers.
fn max_workers(n: usize) -> Config {
    Config {
        max_workers: n,
        ..Config::default()
    }
}

fn job(id: u64, f: impl FnOnce(&Ctx) -> Outcome + Send + 'static) -> Job {
    Job { id, work: Box::new(f) }
}

/// Jobs that say when they start and then wait for a word each: the
/// test waits for a start with `wait_started` and lets one job finish
/// with `release`.
struct Holder {
    started: mpsc::Sender<()>,
    started_rx: mpsc::Receiver<()>,
    hold: Arc<Mutex<mpsc::Receiver<()>>>,
    hold_tx: mpsc::Sender<()>,
}

impl Holder {
    fn new() -> Holder {
        let (started, started_rx) = mpsc::channel();
        let (hold_tx, hold) = mpsc::channel();
        Holder {
            started,
            started_rx,
            hold: Arc::new(Mutex::new(hold)),
            hold_tx,
        }
    }

    fn job(&self, id: u64) -> Job {
        let (started, hold) = (self.started.clone(), Arc::clone(&self.hold));
        job(id, move |_| {
            let _ = started.send(());
            let _ = hold.lock().unwrap().recv();
            Outcome::Ok
        })
    }

    /// Until one more job has started.
    fn wait_started(&self) {
        self.started_rx.recv().unwrap();
    }

    /// Lets one job finish.
    fn release(&self) {
        self.hold_tx.send(()).unwrap();
    }
}

#[test]
fn a_panicking_job_is_answered_and_the_worker_goes_on() {
    let (ex, rx) = executor(Config::default());
    ex.submit(NsSet::default(), job(1, |_| panic!("boom")));
    ex.submit(NsSet::default(), job(2, |_| Outcome::Ok));
    let mut replies: Vec<(u64, Outcome)> = (0..2).map(|_| rx.recv().unwrap()).collect();
    replies.sort_by_key(|(id, _)| *id);
    assert_eq!(
        replies[0],
        (
            1,
            Outcome::Error(OpError {
                stage: Stage::Panic,
                reason: Reason::Text("boom".into()),
            })
        )
    );
    assert_eq!(replies[1], (2, Outcome::Ok));
    assert_eq!(ex.workers(), 1);
}

#[test]
fn a_full_queue_answers_busy() {
    let (ex, rx) = executor(queue_len(1));
    let holder = Holder::new();
    ex.submit(NsSet::default(), holder.job(1));
    holder.wait_started();
    ex.submit(NsSet::default(), job(2, |_| Outcome::Ok));
    ex.submit(NsSet::default(), job(3, |_| Outcome::Ok));
    assert_eq!(rx.recv().unwrap(), (3, OpError::word(Stage::Busy, "queue").into()));
    holder.release();
    let mut rest: Vec<u64> = (0..2).map(|_| rx.recv().unwrap().0).collect();
    rest.sort();
    assert_eq!(rest, vec![1, 2]);
}

/// A set that enters our own network namespace again, under a made-up
/// identity `n` (entering it changes nothing; the key is what counts).
fn set(n: u64) -> NsSet {
    let fd = crate::sys::open(c"/proc/self/ns/net", libc::O_RDONLY).expect("own netns");
    NsSet {
        members: vec![crate::ns::NsFile {
            fd,
            kind: CloneFlags::CLONE_NEWNET,
            id: (CloneFlags::CLONE_NEWNET.bits(), u64::MAX, n),
        }],
    }
}

#[test]
fn idle_workers_give_way_to_new_sets() {
    let (ex, rx) = executor(max_workers(2));
    for n in 0..6 {
        ex.submit(set(n), job(n, |_| Outcome::Ok));
        assert_eq!(rx.recv().unwrap(), (n, Outcome::Ok), "set {n}");
    }
    // The port's own namespaces take no slot.
    ex.submit(NsSet::default(), job(100, |_| Outcome::Ok));
    assert_eq!(rx.recv().unwrap(), (100, Outcome::Ok));
    assert!(ex.workers() <= 3, "{} workers", ex.workers());
}

#[test]
fn busy_workers_only_when_all_are_busy() {
    let (ex, rx) = executor(max_workers(2));
    let holder = Holder::new();
    for n in 0..2 {
        ex.submit(set(n), holder.job(n));
    }
    holder.wait_started();
    holder.wait_started();
    ex.submit(set(9), job(9, |_| Outcome::Ok));
    assert_eq!(rx.recv().unwrap(), (9, OpError::word(Stage::Busy, "workers").into()));
    // The port's own namespaces are still served.
    ex.submit(NsSet::default(), job(10, |_| Outcome::Ok));
    assert_eq!(rx.recv().unwrap(), (10, Outcome::Ok));
    holder.release();
    holder.release();
    let mut done: Vec<u64> = (0..2).map(|_| rx.recv().unwrap().0).collect();
    done.sort();
    assert_eq!(done, vec![0, 1]);
    // Both idle now: a new set gets a slot.
    ex.submit(set(11), job(11, |_| Outcome::Ok));
    assert_eq!(rx.recv().unwrap(), (11, Outcome::Ok));
}
