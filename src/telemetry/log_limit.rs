//! Rate limits for slotel's own repeated warnings and errors.
//!
//! A backend that refuses every request, or a queue that stays full, would otherwise log
//! once per request. A [`LogLimiter`] lets each call site (a `&'static str` key, so the
//! number of keys is bounded by the code) log at most once per interval; the calls in
//! between are counted and the next line that is let through says how many were held
//! back: `… (37 more since last report)`.
//!
//! Time comes from `tokio::time`, so tests run it on paused time.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The interval the export paths use: one line per call site and exporter per 10 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Lets one log line per key through per interval and counts the rest.
#[derive(Debug)]
pub struct LogLimiter {
    interval: Duration,
    /// Per key: when a line was last let through, and how many were held back since.
    state: Mutex<HashMap<&'static str, (Instant, u64)>>,
}

/// How many lines of a key were held back since the last one let through; displays as
/// nothing when none were, else as ` (N more since last report)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed(pub u64);

impl fmt::Display for Suppressed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            Ok(())
        } else {
            write!(f, " ({} more since last report)", self.0)
        }
    }
}

impl Default for LogLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_INTERVAL)
    }
}

impl LogLimiter {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Some` when a line for `key` may be logged now (with the count held back since
    /// the last one); `None` when it is held back (and counted).
    pub fn check(&self, key: &'static str) -> Option<Suppressed> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &'static str, now: Instant) -> Option<Suppressed> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.get_mut(key) {
            Some((last, held)) if now.saturating_duration_since(*last) < self.interval => {
                *held = held.saturating_add(1);
                None
            }
            Some((last, held)) => {
                let n = std::mem::take(held);
                *last = now;
                Some(Suppressed(n))
            }
            None => {
                state.insert(key, (now, 0));
                Some(Suppressed(0))
            }
        }
    }

    /// Lines held back for `key` that no later line has reported yet.
    pub fn pending(&self, key: &'static str) -> u64 {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.get(key).map_or(0, |(_, n)| *n)
    }

    /// Takes every key's count of lines held back and not reported yet (at shutdown, so
    /// the last ones are not lost), sorted by key.
    pub fn take_pending(&self) -> Vec<(&'static str, u64)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(&'static str, u64)> = state
            .iter_mut()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(k, (_, n))| (*k, std::mem::take(n)))
            .collect();
        out.sort_unstable();
        out
    }
}

/// Tests' view of slotel's own log.
#[cfg(test)]
pub(crate) mod capture {
    use std::sync::{Arc, Mutex};

    /// The log lines written on this thread while the guard lives (paused-time tests run
    /// every task on the test's thread).
    #[derive(Clone, Default)]
    pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        pub(crate) fn start() -> (Self, tracing::subscriber::DefaultGuard) {
            let cap = Captured::default();
            let writer = cap.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            (cap, tracing::subscriber::set_default(subscriber))
        }

        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_line_per_interval_per_key_with_the_count_held_back() {
        let l = LogLimiter::new(Duration::from_secs(10));
        assert_eq!(l.check("a"), Some(Suppressed(0)));
        for _ in 0..37 {
            assert_eq!(l.check("a"), None);
        }
        // Another call site is limited on its own.
        assert_eq!(l.check("b"), Some(Suppressed(0)));
        assert_eq!(l.pending("a"), 37);
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(l.check("a"), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        let s = l.check("a").expect("a new interval");
        assert_eq!(s, Suppressed(38));
        assert_eq!(s.to_string(), " (38 more since last report)");
        assert_eq!(Suppressed(0).to_string(), "");
        assert_eq!(l.check("a"), None);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(l.check("a"), Some(Suppressed(1)));
        assert_eq!(l.check("a"), None);
        assert_eq!(l.check("b"), Some(Suppressed(0)), "b's interval is over");
        assert_eq!(l.check("b"), None);
        assert_eq!(l.take_pending(), [("a", 1), ("b", 1)]);
        assert_eq!(l.take_pending(), []);
    }
}
