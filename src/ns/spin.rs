//! Spinning: a thread that expects work soon keeps looking for it instead
//! of sleeping, since waking a sleeping thread costs 10-25 µs here.

use std::sync::atomic::{AtomicBool, Ordering};

/// At most one thread of the process spins at a time: on two cores a
/// second spinner would take the time of the very threads it waits for
/// (the BEAM's schedulers, which have to take each reply). The port's
/// reader, the first to see every request, takes precedence: it marks
/// itself with [`SpinTurn::reader`], and a worker spins only while no
/// other thread does.
pub struct SpinTurn(&'static AtomicBool);

static SPINNING: AtomicBool = AtomicBool::new(false);

impl SpinTurn {
    /// Take the turn to spin, if nobody has it.
    pub fn take() -> Option<SpinTurn> {
        SPINNING
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinTurn(&SPINNING))
    }

    /// The reader takes the turn whoever has it; a worker that had it
    /// stops at its next look.
    pub fn reader() -> SpinTurn {
        SPINNING.store(true, Ordering::Release);
        SpinTurn(&SPINNING)
    }

    /// Whether the turn is still this thread's (the reader may take it).
    pub fn held(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Drop for SpinTurn {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
