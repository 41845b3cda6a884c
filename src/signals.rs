//! SIGTERM and SIGINT for every command that writes (`run`, `erase`, `daemon`). The first
//! signal asks the engine to stop after the batch it is in: it commits that batch with its
//! audit entry and records the run as interrupted. A second SIGINT (Ctrl-C pressed again)
//! ends the process at once: the batch in flight is never committed, because its transaction
//! dies with the connection (PostgreSQL and MySQL roll back a transaction whose session
//! ended; SQLite rolls back, at the next open, a transaction whose process ended before
//! commit, from its rollback journal or by ignoring uncommitted WAL frames), and the next
//! run marks this one abandoned and continues its work. SIGTERM never ends the process
//! mid-batch: systemd stops the service with it and waits for a clean stop.

use crate::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

/// The stop request set by the first signal.
pub struct Signals {
    stop: Arc<AtomicBool>,
    stopped: watch::Receiver<bool>,
    sigint: Arc<AtomicBool>,
}

/// Starts listening for SIGTERM and SIGINT (instead of the default, which ends the process).
pub fn install() -> std::io::Result<Signals> {
    use tokio::signal::unix::{SignalKind, signal};
    let stop = Arc::new(AtomicBool::new(false));
    let sigint = Arc::new(AtomicBool::new(false));
    let (tx, stopped) = watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (flag, by_int) = (stop.clone(), sigint.clone());
    tokio::spawn(async move {
        loop {
            let interrupt = tokio::select! {
                _ = term.recv() => false,
                _ = int.recv() => true,
            };
            let name = if interrupt { "SIGINT" } else { "SIGTERM" };
            if !flag.load(Ordering::SeqCst) {
                if interrupt {
                    by_int.store(true, Ordering::SeqCst);
                    tracing::info!(
                        "SIGINT: finishing the current batch, then stopping (Ctrl-C again stops at once)"
                    );
                } else {
                    tracing::info!("SIGTERM: finishing the current batch, then stopping");
                }
                flag.store(true, Ordering::SeqCst);
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
                let _ = tx.send(true);
            } else if interrupt {
                crate::cli::progress::abandon();
                tracing::warn!(
                    "SIGINT again: stopping now; the batch in progress is rolled back and the next run continues"
                );
                std::process::exit(exit::INTERRUPTED.into());
            } else {
                tracing::info!("{name}: already stopping after the current batch");
            }
        }
    });
    Ok(Signals {
        stop,
        stopped,
        sigint,
    })
}

impl Signals {
    /// The flag the engine checks between batches.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Changes to true at the first signal, for waits that a signal cuts short.
    pub fn stopped(&self) -> watch::Receiver<bool> {
        self.stopped.clone()
    }

    /// Whether SIGINT (Ctrl-C) came, whichever signal came first.
    pub fn sigint(&self) -> bool {
        self.sigint.load(Ordering::SeqCst)
    }
}
