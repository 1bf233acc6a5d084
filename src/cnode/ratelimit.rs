//! At most one log line per kind and period, with a count of the rest.
//!
//! The first event of a kind is logged at once and opens a window of one
//! period; the events that follow in the window are only counted. When a
//! window ends with events counted, one line reports how many and a new
//! window opens, so a flood that goes on gives one line a period; a
//! window that ends with none counted closes, and the next event is
//! logged at once again. Every event is thus either logged itself or
//! counted in exactly one report.
//!
//! The clock is an argument: the rules are tested without sleeping. The
//! C-node's kinds and the task that prints the reports are in
//! [`log`](super::log).

use std::time::{Duration, Instant};

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it: the first of its kind for a while.
    Log,
    /// Only count it.
    Count,
    /// Report the window that ended before it (`Report`), whose report
    /// was not made yet; the event itself is counted in a new window.
    Report(Report),
}

/// The events of a window that were counted, not logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub counted: u64,
    /// How long the window lasted.
    pub over: Duration,
}

#[derive(Debug)]
struct Window<K> {
    kind: K,
    opened: Instant,
    counted: u64,
}

/// Open windows by kind (a handful of kinds: a list is enough).
#[derive(Debug)]
pub struct RateLimit<K> {
    period: Duration,
    windows: Vec<Window<K>>,
}

impl<K: Copy + PartialEq> RateLimit<K> {
    pub fn new(period: Duration) -> Self {
        RateLimit {
            period,
            windows: Vec::new(),
        }
    }

    /// An event of `kind` at `now`.
    pub fn event(&mut self, kind: K, now: Instant) -> Verdict {
        let period = self.period;
        let Some(w) = self.windows.iter_mut().find(|w| w.kind == kind) else {
            self.windows.push(Window {
                kind,
                opened: now,
                counted: 0,
            });
            return Verdict::Log;
        };
        if now < w.opened + period {
            w.counted += 1;
            return Verdict::Count;
        }
        // The window is over but was not reported yet.
        let report = Report {
            counted: w.counted,
            over: now.saturating_duration_since(w.opened),
        };
        w.opened = now;
        if report.counted == 0 {
            Verdict::Log
        } else {
            w.counted = 1;
            Verdict::Report(report)
        }
    }

    /// The windows over at `now`: the report of each that counted events
    /// (a new window opens for its kind), in the order their kinds came;
    /// those that counted none close.
    pub fn expire(&mut self, now: Instant) -> Vec<(K, Report)> {
        let period = self.period;
        let mut reports = Vec::new();
        self.windows.retain_mut(|w| {
            if now < w.opened + period {
                return true;
            }
            if w.counted == 0 {
                return false;
            }
            reports.push((
                w.kind,
                Report {
                    counted: w.counted,
                    over: now.saturating_duration_since(w.opened),
                },
            ));
            w.opened = now;
            w.counted = 0;
            true
        });
        reports
    }

    /// When the first open window ends; `None` when none is open.
    pub fn next_end(&self) -> Option<Instant> {
        self.windows.iter().map(|w| w.opened + self.period).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// Events logged plus events reported: every event, once.
    fn accounted(logged: u64, reports: &[(char, Report)]) -> u64 {
        logged + reports.iter().map(|(_, r)| r.counted).sum::<u64>()
    }

    #[test]
    fn the_first_is_logged_the_rest_counted_and_reported_once() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(SECOND);
        assert_eq!(rl.next_end(), None);
        assert_eq!(rl.event('a', t0), Verdict::Log);
        for ms in 1..=57 {
            assert_eq!(rl.event('a', at(t0, ms * 10)), Verdict::Count);
        }
        assert_eq!(rl.next_end(), Some(at(t0, 1000)));
        assert!(rl.expire(at(t0, 999)).is_empty());
        let reports = rl.expire(at(t0, 1000));
        assert_eq!(
            reports,
            vec![(
                'a',
                Report {
                    counted: 57,
                    over: SECOND
                }
            )]
        );
        assert_eq!(accounted(1, &reports), 58);
        // A new window opened at the report: nothing counted in it, so it
        // closes, and the next event is logged at once.
        assert_eq!(rl.next_end(), Some(at(t0, 2000)));
        assert!(rl.expire(at(t0, 2000)).is_empty());
        assert_eq!(rl.next_end(), None);
        assert_eq!(rl.event('a', at(t0, 2500)), Verdict::Log);
    }

    #[test]
    fn kinds_have_windows_of_their_own() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(SECOND);
        assert_eq!(rl.event('a', t0), Verdict::Log);
        assert_eq!(rl.event('b', at(t0, 300)), Verdict::Log);
        assert_eq!(rl.event('a', at(t0, 400)), Verdict::Count);
        assert_eq!(rl.event('b', at(t0, 500)), Verdict::Count);
        assert_eq!(rl.event('b', at(t0, 600)), Verdict::Count);
        assert_eq!(rl.next_end(), Some(at(t0, 1000)));
        let first = rl.expire(at(t0, 1000));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, 'a');
        assert_eq!(first[0].1.counted, 1);
        assert_eq!(rl.next_end(), Some(at(t0, 1300)));
        let second = rl.expire(at(t0, 1300));
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].0, 'b');
        assert_eq!(second[0].1.counted, 2);
    }

    #[test]
    fn a_flood_that_goes_on_gives_one_line_a_period() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(SECOND);
        let (mut lines, mut logged, mut reports) = (0, 0, Vec::new());
        // 3,000 events over 3 s, the windows expired every 100 ms.
        for ms in 0..3000 {
            if ms % 100 == 0 {
                let ended = rl.expire(at(t0, ms));
                lines += ended.len();
                reports.extend(ended);
            }
            match rl.event('a', at(t0, ms)) {
                Verdict::Log => {
                    lines += 1;
                    logged += 1;
                }
                Verdict::Count => {}
                Verdict::Report(r) => {
                    lines += 1;
                    reports.push(('a', r));
                }
            }
        }
        let ended = rl.expire(at(t0, 4000));
        lines += ended.len();
        reports.extend(ended);
        assert_eq!(lines, 4, "one line at once, then one per second: {reports:?}");
        assert_eq!(accounted(logged, &reports), 3000);
        assert!(rl.expire(at(t0, 5000)).is_empty());
        assert_eq!(rl.next_end(), None);
    }

    #[test]
    fn a_window_not_yet_expired_is_reported_by_the_next_event() {
        let t0 = Instant::now();
        let mut rl = RateLimit::new(SECOND);
        assert_eq!(rl.event('a', t0), Verdict::Log);
        assert_eq!(rl.event('a', at(t0, 10)), Verdict::Count);
        assert_eq!(rl.event('a', at(t0, 20)), Verdict::Count);
        // No expire() ran at 1000 ms: the next event reports the window
        // and is counted in the new one.
        assert_eq!(
            rl.event('a', at(t0, 1500)),
            Verdict::Report(Report {
                counted: 2,
                over: Duration::from_millis(1500)
            })
        );
        let reports = rl.expire(at(t0, 2500));
        assert_eq!(reports[0].1.counted, 1);
        assert_eq!(
            accounted(
                1,
                &[
                    (
                        'a',
                        Report {
                            counted: 2,
                            over: SECOND
                        }
                    ),
                    reports[0]
                ]
            ),
            4
        );
        // A window that counted nothing, not expired yet: the next event
        // is logged.
        assert_eq!(rl.event('b', at(t0, 3000)), Verdict::Log);
        assert_eq!(rl.event('b', at(t0, 4000)), Verdict::Log);
    }
}
