//! The one shutdown signal every long-running task is given.
//!
//! [`channel`] makes a [`Trigger`] (kept by whoever runs the staged shutdown: the app) and a
//! [`Shutdown`] (cloned into each task). A task selects on [`Shutdown::wait`] next to its
//! work and finishes what it must (drain connections, write a last snapshot) once it
//! returns. The signal is level-triggered: a task that starts waiting after the trigger
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
    async fn a_dropped_trigger_stops_its_tasks() {
        let (trigger, mut shutdown) = channel();
        drop(trigger);
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .expect("a dropped trigger is a trigger");
    }
}
