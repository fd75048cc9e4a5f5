//! A progress line on stderr for long command-line runs (`loadgen`, `redact`; `replay`
//! draws its own bar): redrawn in place with `\r`, at most a few times a second, only
//! once the run has lasted a second, and only when stderr is a terminal. Redirected to
//! a file or a pipe, stderr gets nothing extra, so scripts and logs see the same output
//! as before.

use std::io::{IsTerminal, Write};

use tokio::time::{Duration, Instant};

/// A run shorter than this never shows the line.
const DELAY: Duration = Duration::from_secs(1);
/// The least time between two redraws.
const EVERY: Duration = Duration::from_millis(250);

/// The progress line of one run.
pub struct ProgressLine<W: Write> {
    /// `None` when the line is off (stderr is not a terminal).
    out: Option<W>,
    started: Instant,
    last: Option<Instant>,
}

impl ProgressLine<std::io::Stderr> {
    /// A line on stderr, on only if stderr is a terminal.
    pub fn stderr() -> Self {
        let stderr = std::io::stderr();
        let on = stderr.is_terminal();
        Self::new(on.then_some(stderr), Instant::now())
    }
}

impl<W: Write> ProgressLine<W> {
    /// A line written to `out` (`None`: off), for a run that began at `started`.
    pub fn new(out: Option<W>, started: Instant) -> Self {
        Self {
            out,
            started,
            last: None,
        }
    }

    /// Whether anything is ever drawn.
    pub fn is_on(&self) -> bool {
        self.out.is_some()
    }

    /// How long the run has lasted at `now`.
    pub fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    /// Redraws the line with `text()` if it is due at `now`; `text` is only called then.
    pub fn update(&mut self, now: Instant, text: impl FnOnce() -> String) {
        let Some(out) = &mut self.out else { return };
        if now.saturating_duration_since(self.started) < DELAY
            || self
                .last
                .is_some_and(|l| now.saturating_duration_since(l) < EVERY)
        {
            return;
        }
        self.last = Some(now);
        // `\x1b[K` erases what a longer previous line left on the right.
        let _ = write!(out, "\r{}\x1b[K", text());
        let _ = out.flush();
    }

    /// Erases the line, if one was drawn, so the run's own output starts on a clean line.
    pub fn finish(&mut self) {
        if let (Some(out), Some(_)) = (&mut self.out, self.last.take()) {
            let _ = write!(out, "\r\x1b[K");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_after_the_delay_at_most_every_quarter_second_and_erased() {
        let t0 = Instant::now();
        let mut line = ProgressLine::new(Some(Vec::new()), t0);
        line.update(t0 + Duration::from_millis(500), || "early".into());
        line.update(t0 + Duration::from_millis(1000), || "one".into());
        line.update(t0 + Duration::from_millis(1100), || "too soon".into());
        line.update(t0 + Duration::from_millis(1250), || "two".into());
        line.finish();
        let out = String::from_utf8(line.out.take().unwrap()).unwrap();
        assert_eq!(out, "\rone\x1b[K\rtwo\x1b[K\r\x1b[K");
    }

    #[test]
    fn off_draws_nothing_and_never_builds_the_text() {
        let t0 = Instant::now();
        let mut line: ProgressLine<Vec<u8>> = ProgressLine::new(None, t0);
        line.update(t0 + Duration::from_secs(5), || {
            unreachable!("the text of a line that is off")
        });
        line.finish();
        assert!(!line.is_on());
    }

    #[test]
    fn a_short_run_leaves_no_trace() {
        let t0 = Instant::now();
        let mut line = ProgressLine::new(Some(Vec::new()), t0);
        line.update(t0 + Duration::from_millis(300), || "x".into());
        line.finish();
        assert!(line.out.take().unwrap().is_empty());
    }
}
