//! What the server does on its own, beside the API: the silence job (patients who went quiet, and `slower_than_peers` kept to the cohort), the reminders job,
//! sealing the audit trail, delivering webhooks and Web Push messages, and running FHIR Bulk Data
//! exports.

pub mod audit_sealing;
pub mod delivery;
pub mod fhir_export;
pub mod peers;
pub mod push_delivery;
pub mod reminders;
pub mod silence;
pub mod webhook_delivery;

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Tells the jobs to stop, waking them from their wait: the threads' (`wait`) and the delivery
/// workers' on the async runtime (`stopped`). The server stops them, and waits for them, before
/// the process exits: a job still using a TLS connection to the database while OpenSSL's clean-up
/// at exit runs would crash the process.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<Signal>);

#[derive(Debug, Default)]
struct Signal {
    stopped: Mutex<bool>,
    wake: Condvar,
    wake_tasks: tokio::sync::Notify,
}

impl Stop {
    pub fn stop(&self) {
        *self
            .0
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.0.wake.notify_all();
        self.0.wake_tasks.notify_waiters();
    }

    pub fn is_stopped(&self) -> bool {
        *self
            .0
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `period`, or less if told to stop meanwhile; whether told to stop.
    pub fn wait(&self, period: Duration) -> bool {
        let guard = self
            .0
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .0
            .wake
            .wait_timeout_while(guard, period, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    /// Ends once told to stop, without holding a thread.
    pub async fn stopped(&self) {
        let mut told = std::pin::pin!(self.0.wake_tasks.notified());
        // Registered before the flag is read, so a stop in between still wakes it.
        told.as_mut().enable();
        if !self.is_stopped() {
            told.await;
        }
    }
}

/// The jobs' threads and tasks, and what stops them.
#[derive(Debug, Default)]
pub struct Threads {
    pub stop: Stop,
    pub handles: Vec<std::thread::JoinHandle<()>>,
    /// The delivery workers, on the async runtime: they must be left to run while this waits.
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Threads {
    /// Tells them to stop and waits for them (at most `limit`: a job runs its current step to
    /// the end); whether every one stopped.
    pub fn stop_and_join(self, limit: Duration) -> bool {
        self.stop.stop();
        let until = std::time::Instant::now() + limit;
        let running = |t: &Self| {
            t.handles.iter().any(|h| !h.is_finished()) || t.tasks.iter().any(|h| !h.is_finished())
        };
        while running(&self) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut all = self.tasks.iter().all(|t| t.is_finished());
        for handle in self.handles {
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                all = false;
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the delivery workers wait on: a stop wakes a task that waits already, and one that
    /// starts waiting after the stop ends at once; a thread's wait ends too.
    #[tokio::test]
    async fn a_stop_ends_the_waits_of_tasks_and_threads() {
        let stop = Stop::default();
        let waiting = tokio::spawn({
            let stop = stop.clone();
            async move { stop.stopped().await }
        });
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || stop.wait(Duration::from_secs(60))
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished() && !stop.is_stopped());
        let threads = Threads {
            stop: stop.clone(),
            handles: vec![],
            tasks: vec![waiting],
        };
        let stopped =
            tokio::task::spawn_blocking(move || threads.stop_and_join(Duration::from_secs(5)));
        assert!(stopped.await.unwrap());
        assert!(thread.join().unwrap());
        tokio::time::timeout(Duration::from_secs(1), stop.stopped())
            .await
            .unwrap();
    }
}
