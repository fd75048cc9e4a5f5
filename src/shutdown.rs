//! The one shutdown signal every long-running task is given.
//!
//! [`channel`] makes a [`Trigger`] (kept by whoever stops the tasks: the app's staged
//! shutdown, the SLO runtime, a queued exporter at its deadline) and a [`Shutdown`]
//! (cloned into each task). A task selects on [`Shutdown::wait`] next to its work and
//! finishes what it must (drain connections, write a last snapshot) once it returns; a
//! loop with nothing to finish runs under [`Shutdown::run_until`]. The signal is level-triggered: a task that starts waiting after the trigger
//! returns at once. A dropped trigger counts as a trigger, so no task outlives its owner by
//! waiting forever.

use tokio::sync::watch;

/// Fires the shutdown of every [`Shutdown`] made from it.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// Tells a task to stop; cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// A trigger and the first of its shutdown signals.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    /// Tells every task to stop.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Another signal of this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// Returns once shutdown has been triggered (or the trigger dropped).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// [`Shutdown::wait`] for a signal read through a shared reference (by several
    /// methods of a task, or by several tasks): the returned future waits on a clone.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut signal = self.clone();
        async move { signal.wait().await }
    }

    /// Runs `task` until it ends or shutdown is triggered, whichever comes first: a loop
    /// with nothing to finish stops at its next `.await` once told to, and is not polled
    /// again after the trigger (the signal is checked first), as if aborted.
    pub async fn run_until(mut self, task: impl Future<Output = ()>) {
        tokio::select! {
            biased;
            _ = self.wait() => {}
            _ = task => {}
        }
    }

    /// Whether shutdown has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_signal_sees_the_trigger_even_after_it_fired() {
        let (trigger, mut first) = channel();
        let mut second = first.clone();
        assert!(!first.is_triggered());
        let waiting = tokio::spawn(async move { first.wait().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished());
        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .expect("task");
        // Waiting after the trigger returns at once.
        tokio::time::timeout(Duration::from_secs(5), second.wait())
            .await
            .expect("level-triggered");
        assert!(trigger.subscribe().is_triggered());
    }

    #[tokio::test]
    async fn a_loop_run_until_the_trigger_ends_and_a_shared_signal_is_heard() {
        let (trigger, shutdown) = channel();
        let shared = std::sync::Arc::new(shutdown.clone());
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = ticks.clone();
        let forever = async move {
            loop {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let task = tokio::spawn(shutdown.run_until(forever));
        let listener = tokio::spawn(async move { shared.stopped().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!task.is_finished() && !listener.is_finished());
        assert!(ticks.load(std::sync::atomic::Ordering::Relaxed) > 0);
        trigger.trigger();
        for handle in [task, listener] {
            tokio::time::timeout(Duration::from_secs(5), handle)
                .await
                .expect("stopped by the trigger")
                .expect("task");
        }
        // Once triggered, the task is not polled again.
        let (trigger, shutdown) = channel();
        trigger.trigger();
        let polled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let marked = polled.clone();
        shutdown
            .run_until(async move { marked.store(true, std::sync::atomic::Ordering::Relaxed) })
            .await;
        assert!(!polled.load(std::sync::atomic::Ordering::Relaxed));
        // A task that ends on its own ends run_until too.
        let (_trigger, shutdown) = channel();
        tokio::time::timeout(Duration::from_secs(5), shutdown.run_until(async {}))
            .await
            .expect("ends with its task");
    }

    #[tokio::test]
    async fn a_dropped_trigger_stops_its_tasks() {
        let (trigger, mut shutdown) = channel();
        drop(trigger);
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .expect("a dropped trigger is a trigger");
    }
}
