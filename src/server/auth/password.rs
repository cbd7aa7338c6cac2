//! argon2id password hashes (PHC strings), and the gate every hash on the
//! server goes through.
//!
//! Limits: one argon2 run takes ~19 MiB and a core for tens of milliseconds,
//! so at most `HERALD_PASSWORD_HASHERS` (default: the number of cores) run at
//! once; a caller waits at most `HASH_WAIT` for a turn, then gets 503. The
//! turn travels with the job, so a caller that goes away does not free a
//! turn while its hash is still running.
//!
//! Memory: allocating 19 MiB per hash and freeing it left glibc holding the
//! freed blocks — ten sequential checks grew the process by ~190 MiB, on
//! tokio's blocking pool or on two threads alike (measured; it levels off
//! near 200 MiB). So the hashes run on that many threads of our own, each
//! reusing one argon2 block (`run_argon2`): hashing costs hashers × 19 MiB,
//! allocated once.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::model::AppError;

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

/// A new argon2id PHC string for `password`, with the crate's default
/// (OWASP-recommended) parameters: 19 MiB, 2 passes, 1 lane.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let params = Params::default();
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(run_argon2(
            algorithm,
            version,
            params.clone(),
            password.as_bytes(),
            salt_bytes,
            out,
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Checks `password` against a stored PHC string. A malformed hash is a
/// mismatch, not a crash.
pub fn verify(password: &str, phc: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..expected.len())?;
        run_argon2(algorithm, version, params, password.as_bytes(), salt, out).ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// Memory a stored hash may ask for (256 MiB); more is treated as corrupt.
const MAX_BLOCKS: usize = 256 * 1024;

/// argon2 in a memory block kept per thread and reused (see the module
/// comment for why): a hashing thread costs exactly its block.
fn run_argon2(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let needed = params.block_count();
    if needed > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        // Every block is written before it is read, so the previous hash's
        // contents do not matter.
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut blocks[..],
        )
    })
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

/// Runs argon2 on threads of its own, a bounded number at a time.
pub struct Hashers {
    turns: Arc<Semaphore>,
    /// Feeds the hashing threads; they end when it is dropped.
    jobs: mpsc::SyncSender<Job>,
    wait: Duration,
    runs: AtomicU64,
}

type Job = Box<dyn FnOnce() + Send>;

impl Hashers {
    /// Starts `concurrency` hashing threads.
    pub fn new(concurrency: usize, wait: Duration) -> std::io::Result<Hashers> {
        let concurrency = concurrency.max(1);
        // Only a job holding a turn is sent, so the channel is never full.
        let (jobs, queue) = mpsc::sync_channel::<Job>(concurrency);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("herald-hash-{i}"))
                .spawn(move || loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(job) = next else { return };
                    // A panicking job drops its reply; the caller gets a 500.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                })?;
        }
        Ok(Hashers {
            turns: Arc::new(Semaphore::new(concurrency)),
            jobs,
            wait,
            runs: AtomicU64::new(0),
        })
    }

    /// The default bound: one hash per core.
    pub fn default_concurrency() -> std::num::NonZeroUsize {
        std::thread::available_parallelism()
            .unwrap_or(std::num::NonZeroUsize::MIN.saturating_add(1))
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
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = job();
            drop(turn);
            let _ = reply.send(result);
        });
        self.jobs.try_send(job).map_err(|e| {
            tracing::error!(error = %e, "password hashing threads unavailable");
            AppError::Internal
        })?;
        answer.await.map_err(|_| {
            tracing::error!("a password job failed");
            AppError::Internal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashers_bound_concurrency_and_refuse_when_busy() {
        let hashers = Arc::new(Hashers::new(1, Duration::from_millis(50)).unwrap());
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

    #[test]
    fn compatible_with_the_stock_argon2_api() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Hashes stored by earlier versions (the stock API) still verify…
        let salt = SaltString::generate(&mut OsRng);
        let stock = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        assert!(verify("s3cret", &stock));
        assert!(!verify("s3cret!", &stock));
        // …other parameters included…
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, Some(16)).unwrap(),
        )
        .hash_password(b"s3cret", &salt)
        .unwrap()
        .to_string();
        assert!(verify("s3cret", &small));
        // …and ours verify with the stock API.
        let ours = hash("s3cret").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"s3cret", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"other", &parsed)
            .is_err());
    }
}
