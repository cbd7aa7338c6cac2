//! argon2id password hashes (PHC strings), and the gate every hash on the
//! server goes through.
//!
//! Limits: one argon2 run takes ~19 MiB and a core for tens of milliseconds,
//! so at most `HERALD_PASSWORD_HASHERS` (default: the number of cores) run at
//! once; a caller waits at most `HASH_WAIT` for a turn, then gets 503. The
//! permit travels into the blocking task, so a caller that goes away does
//! not free a turn while its hash is still running.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::model::AppError;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks `password` against a stored PHC string. A malformed hash is a
/// mismatch, not a crash.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A real hash of nothing anyone knows, checked when the username does not
/// exist so that "unknown user" takes as long as "wrong password".
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("herald-decoy-password-never-valid").unwrap_or_default())
}

/// How long a hash waits for a turn before the caller is told the server
/// is busy. Long enough to ride out a burst, short enough that a flood
/// never builds a queue of pending 19 MiB jobs.
pub const HASH_WAIT: Duration = Duration::from_secs(2);

/// Runs argon2 on the blocking pool, a bounded number at a time.
pub struct Hashers {
    turns: Arc<Semaphore>,
    wait: Duration,
    runs: AtomicU64,
}

impl Hashers {
    pub fn new(concurrency: usize, wait: Duration) -> Hashers {
        Hashers {
            turns: Arc::new(Semaphore::new(concurrency.max(1))),
            wait,
            runs: AtomicU64::new(0),
        }
    }

    /// The default bound: one hash per core.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    /// Password hashes and checks started since start-up (exported in `/metrics`).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Checks `password` against `phc`, or against a decoy hash when there
    /// is no account, so both take the same time.
    pub async fn verify(&self, password: &str, phc: Option<String>) -> Result<bool, AppError> {
        let password = password.to_string();
        self.run(move || match &phc {
            Some(phc) => verify(&password, phc),
            None => verify(&password, decoy_hash()),
        })
        .await
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_string();
        self.run(move || hash(&password)).await?.map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let turn = tokio::time::timeout(self.wait, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| {
                tracing::warn!("every password hasher busy; answering 503");
                AppError::Unavailable
            })?
            .map_err(|_| AppError::Internal)?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            job()
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password task failed");
            AppError::Internal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashers_bound_concurrency_and_refuse_when_busy() {
        let hashers = Arc::new(Hashers::new(1, Duration::from_millis(50)));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = {
            let hashers = hashers.clone();
            tokio::spawn(async move {
                hashers
                    .run(move || {
                        started_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        let refused = hashers.run(|| ()).await;
        assert!(matches!(refused, Err(AppError::Unavailable)), "{refused:?}");
        release_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert!(hashers.verify("x", None).await.is_ok());
        assert_eq!(hashers.runs(), 2);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("s3cret", &h));
        assert!(!verify("S3cret", &h));
        assert!(!verify("s3cret", "not a hash"));
    }
}
