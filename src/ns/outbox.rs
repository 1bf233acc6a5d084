//! A namespace helper's stdin, written without the sender ever waiting.
//!
//! The dispatcher forwards requests to a helper from the front end's own
//! thread (the port's reader, a C-node connection's task): if that write
//! blocked, one stalled helper (stopped, frozen in a cgroup, stuck in the
//! kernel) would stop the whole port. So the pipe is non-blocking and each
//! helper has a bounded queue of frames:
//! - a frame is written at once when nothing waits before it (no thread
//!   hand-off on the usual path); what the pipe does not take is queued;
//! - the helper's writer thread waits until the pipe is writable and
//!   writes the queue, in order;
//! - a full queue refuses the frame ([`Refused::Full`]): its caller gets
//!   `{busy, helper}` at once, and only that helper's callers are
//!   affected. A frame larger than the bound is taken when the queue is
//!   empty, so every frame the port reads can reach a helper.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::process::ChildStdin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Most bytes queued for one helper beyond what its pipe holds.
pub const QUEUE_BYTES: usize = 1 << 20;

/// How long the writer waits in one `poll` before it looks again whether
/// the box was closed.
const POLL_MS: u16 = 100;

/// Why a frame was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: the helper does not read its stdin.
    Full,
    /// The box is closed, or the helper's stdin is (the helper is gone).
    Closed,
}

/// The frames on their way to one helper, and its stdin.
pub struct Outbox {
    state: Mutex<State>,
    /// Wakes the writer when its queue gets frames, or the box is closed.
    wake: Condvar,
    limit: usize,
}

struct State {
    /// The helper's stdin; `None` once closed. Shared with the writer while
    /// it waits in `poll`, so the descriptor stays open until it is done.
    pipe: Option<Arc<ChildStdin>>,
    queue: VecDeque<Vec<u8>>,
    /// Bytes of the first queued frame already written.
    offset: usize,
    /// Bytes queued (the written part of the first frame included).
    bytes: usize,
    /// The writer waits on `wake` (and needs a notification).
    writer_asleep: bool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // Every update is one call: a poisoned state is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Outbox {
    /// Take over a helper's stdin (made non-blocking) and start its writer
    /// thread, which ends when the box is closed.
    pub fn start(pipe: ChildStdin, limit: usize) -> io::Result<Arc<Outbox>> {
        let flags = OFlag::from_bits_retain(fcntl(pipe.as_raw_fd(), FcntlArg::F_GETFL)?);
        fcntl(pipe.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        let outbox = Arc::new(Outbox {
            state: Mutex::new(State {
                pipe: Some(Arc::new(pipe)),
                queue: VecDeque::new(),
                offset: 0,
                bytes: 0,
                writer_asleep: false,
            }),
            wake: Condvar::new(),
            limit,
        });
        let writer = Arc::clone(&outbox);
        std::thread::Builder::new()
            .name("linx-helper-in".into())
            .spawn(move || writer.write_loop())?;
        Ok(outbox)
    }

    /// Send one frame (length header included). `bounded`: refuse it when
    /// the queue is full; a liveness probe is never refused for room.
    pub fn send(&self, frame: Vec<u8>, bounded: bool) -> Result<(), Refused> {
        let mut st = lock(&self.state);
        let Some(pipe) = st.pipe.clone() else {
            return Err(Refused::Closed);
        };
        if st.queue.is_empty() {
            // Nothing before it: straight into the pipe, no hand-off.
            let written = match write_some(&pipe, &frame) {
                Ok(n) => n,
                Err(_) => {
                    st.close();
                    self.wake.notify_one();
                    return Err(Refused::Closed);
                }
            };
            if written == frame.len() {
                return Ok(());
            }
            st.offset = written;
        } else if bounded && st.bytes + frame.len() > self.limit {
            return Err(Refused::Full);
        }
        st.bytes += frame.len();
        st.queue.push_back(frame);
        if std::mem::take(&mut st.writer_asleep) {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Drop what is queued and close the helper's stdin (it then ends on
    /// its own, unless it is stopped); later frames are refused.
    pub fn close(&self) {
        lock(&self.state).close();
        self.wake.notify_one();
    }

    /// Bytes waiting for the pipe.
    pub fn queued(&self) -> usize {
        lock(&self.state).bytes
    }

    /// The writer thread: write the queue whenever the pipe takes more.
    fn write_loop(&self) {
        let mut st = lock(&self.state);
        loop {
            let Some(pipe) = st.pipe.clone() else { return };
            if st.queue.is_empty() {
                st.writer_asleep = true;
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            match st.flush(&pipe) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(_) => {
                    st.close();
                    return;
                }
            }
            // The pipe is full: wait for room without holding the lock, so
            // senders are refused or queued at once meanwhile.
            drop(st);
            let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLOUT)];
            let _ = poll(&mut fds, PollTimeout::from(POLL_MS));
            drop(pipe);
            st = lock(&self.state);
        }
    }
}

impl State {
    /// Write queued frames until the queue is empty (`true`) or the pipe
    /// is full (`false`).
    fn flush(&mut self, pipe: &ChildStdin) -> io::Result<bool> {
        while let Some(front) = self.queue.front() {
            let n = write_some(pipe, &front[self.offset..])?;
            self.offset += n;
            if self.offset < front.len() {
                return Ok(false);
            }
            self.bytes -= front.len();
            self.offset = 0;
            self.queue.pop_front();
        }
        Ok(true)
    }

    fn close(&mut self) {
        self.pipe = None;
        self.queue.clear();
        self.offset = 0;
        self.bytes = 0;
    }
}

/// Write what the pipe takes now: `Ok(0)` when it is full.
fn write_some(mut pipe: &ChildStdin, buf: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match pipe.write(&buf[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.raw_os_error() == Some(Errno::EAGAIN as i32) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};

    /// A child that reads nothing until told to: `sleep` never reads.
    fn stalled_child() -> std::process::Child {
        Command::new("sleep")
            .arg("30")
            .stdin(Stdio::piped())
            .spawn()
            .expect("sleep")
    }

    #[test]
    fn a_stalled_reader_fills_the_queue_and_is_refused_without_blocking() {
        let mut child = stalled_child();
        let outbox = Outbox::start(child.stdin.take().expect("stdin"), 256 << 10).expect("outbox");
        let frame = vec![7u8; 60_000];
        let started = std::time::Instant::now();
        let results: Vec<_> = (0..40).map(|_| outbox.send(frame.clone(), true)).collect();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        let full = results.iter().filter(|r| **r == Err(Refused::Full)).count();
        // The pipe holds about 64 kB and the queue 256 kB: most are refused.
        assert!(full >= 30, "{results:?}");
        assert!(outbox.queued() <= 256 << 10);
        // A probe is still taken.
        assert_eq!(outbox.send(vec![1, 2, 3], false), Ok(()));
        outbox.close();
        assert_eq!(outbox.send(vec![1], true), Err(Refused::Closed));
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn queued_frames_arrive_whole_and_in_order_once_the_reader_reads() {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cat");
        let mut out = child.stdout.take().expect("stdout");
        let outbox = Outbox::start(child.stdin.take().expect("stdin"), 8 << 20).expect("outbox");
        let mut want = Vec::new();
        for i in 0..64u8 {
            let frame = vec![i; 50_000];
            want.extend_from_slice(&frame);
            assert_eq!(outbox.send(frame, true), Ok(()));
        }
        let mut got = vec![0; want.len()];
        out.read_exact(&mut got).expect("read back");
        assert!(got == want, "frames reordered or cut");
        outbox.close();
        let _ = child.wait();
    }
}
