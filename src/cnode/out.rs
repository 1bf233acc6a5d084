//! The sending side of a connection, written from any thread: a frame goes
//! straight to the socket (a non-blocking `send`) when nothing waits before
//! it; what the socket does not take at once waits, in order, for the
//! connection's writer task.

use super::log::{Log, Warn};
use nix::errno::Errno;
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Most bytes waiting to be written to one connection; a peer that lets
/// more pile up is not reading, and is disconnected.
pub const MAX_PENDING: usize = 64 << 20;

/// The sending side of one connection, shared by its task, its writer
/// task and every thread that finishes one of its requests.
pub struct Out {
    /// A duplicate of the connection's socket.
    fd: OwnedFd,
    state: Mutex<OutState>,
    /// Signalled when `pending` gets bytes or the connection closes.
    more: Notify,
    log: Arc<Log>,
}

#[derive(Default)]
struct OutState {
    /// Bytes the socket did not take at once, in order.
    pending: Vec<u8>,
    /// The writer task holds bytes taken from `pending`.
    writing: bool,
    closed: bool,
}

impl Out {
    /// Take over the writing side of `stream`: returns the sender, the
    /// reading half, and the writer task (it ends after [`Out::close`]).
    pub fn start(stream: TcpStream, log: Arc<Log>) -> io::Result<(Arc<Out>, OwnedReadHalf, JoinHandle<()>)> {
        // Our own descriptor of the socket: threads that finish requests
        // write through it, and it stays valid (not reused) while `Out` lives.
        let fd = stream.as_fd().try_clone_to_owned()?;
        let (reader, writer) = stream.into_split();
        let out = Arc::new(Out {
            fd,
            state: Mutex::new(OutState::default()),
            more: Notify::new(),
            log,
        });
        let writing = tokio::spawn(Arc::clone(&out).write_loop(writer));
        Ok((out, reader, writing))
    }

    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send one frame: straight to the socket when nothing waits before
    /// it, else after what waits. A peer that lets [`MAX_PENDING`] bytes
    /// pile up is not reading and is disconnected.
    pub fn send(&self, frame: &[u8]) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        let mut rest = frame;
        if !st.writing && st.pending.is_empty() {
            let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
            match send(self.fd.as_raw_fd(), frame, flags) {
                Ok(n) if n == frame.len() => return,
                Ok(n) => rest = &frame[n..],
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(_) => {
                    // Broken: the reader sees it too and ends the connection.
                    drop(st);
                    return self.close();
                }
            }
        }
        if st.pending.len() + rest.len() > MAX_PENDING {
            drop(st);
            let line = || format!("a peer does not read its replies ({MAX_PENDING} bytes queued); disconnecting it");
            self.log.warn(Warn::NotReading, line);
            return self.close();
        }
        st.pending.extend_from_slice(rest);
        drop(st);
        self.more.notify_one();
    }

    /// Stop writing and shut the socket down (which also ends the reader).
    pub fn close(&self) {
        let mut st = self.lock();
        if !st.closed {
            st.closed = true;
            let _ = shutdown(self.fd.as_raw_fd(), Shutdown::Both);
        }
        drop(st);
        self.more.notify_one();
    }

    /// Write what [`Out::send`] could not, in order.
    async fn write_loop(self: Arc<Self>, mut writer: OwnedWriteHalf) {
        loop {
            match self.take_pending() {
                Pending::Closed => return,
                Pending::Nothing => self.more.notified().await,
                Pending::Bytes(buf) => {
                    if writer.write_all(&buf).await.is_err() {
                        return self.close();
                    }
                }
            }
        }
    }

    /// Take what waits to be written, marking the writer busy with it (or
    /// idle, when nothing waits).
    fn take_pending(&self) -> Pending {
        let mut st = self.lock();
        if st.closed {
            return Pending::Closed;
        }
        st.writing = !st.pending.is_empty();
        if st.writing {
            Pending::Bytes(std::mem::take(&mut st.pending))
        } else {
            Pending::Nothing
        }
    }
}

enum Pending {
    Closed,
    Nothing,
    Bytes(Vec<u8>),
}
