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

/// Tells the jobs' threads to stop, waking them from their wait. The server stops them, and joins
/// them, before the process exits: a thread still using a TLS connection to the database while
/// OpenSSL's clean-up at exit runs would crash the process.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    pub fn stop(&self) {
        let (stopped, wake) = &*self.0;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
    }

    /// Waits `period`, or less if told to stop meanwhile; whether told to stop.
    pub fn wait(&self, period: Duration) -> bool {
        let (stopped, wake) = &*self.0;
        let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = wake
            .wait_timeout_while(guard, period, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// The jobs' threads, and what stops them.
#[derive(Debug, Default)]
pub struct Threads {
    pub stop: Stop,
    pub handles: Vec<std::thread::JoinHandle<()>>,
}

impl Threads {
    /// Tells them to stop and waits for them (at most `limit`: a job runs its current step to
    /// the end); whether every one stopped.
    pub fn stop_and_join(self, limit: Duration) -> bool {
        self.stop.stop();
        let until = std::time::Instant::now() + limit;
        while self.handles.iter().any(|h| !h.is_finished()) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut all = true;
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
