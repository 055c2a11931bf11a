//! Sign-in sessions: random 128-bit bearer tokens that expire, kept only as
//! their SHA-256 (a token is looked up by its digest, so neither the map nor
//! a timing difference gives a token away), and a brake on guessing: after
//! repeated wrong passwords for one user, sign-ins for it are refused with
//! 429 for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::users::{Role, User};
use crate::profile::ExpertLevel;

/// How long a token is valid.
const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Wrong passwords for one user before sign-ins for it pause.
const FAILURES: u32 = 5;
/// How long they pause, and how long failures are remembered.
const PAUSE: Duration = Duration::from_secs(60);

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub expert_level: ExpertLevel,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions {
    by_digest: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// A new token for a user who signed in.
    pub fn open(&self, user: &User) -> Result<String, String> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).map_err(|e| format!("no random numbers: {e}"))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let session = Session {
            user: user.name.clone(),
            role: user.role,
            expert_level: user.expert_level(),
            expires: Instant::now() + LIFETIME,
        };
        let mut map = self
            .by_digest
            .lock()
            .expect("no panics while holding the lock");
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(digest(&token), session);
        Ok(token)
    }

    /// The live session of a token.
    pub fn find(&self, token: &str) -> Option<Session> {
        let map = self
            .by_digest
            .lock()
            .expect("no panics while holding the lock");
        map.get(&digest(token))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    /// Whether sign-ins for this user are paused after wrong passwords.
    pub fn paused(&self, user: &str) -> bool {
        let failures = self
            .failures
            .lock()
            .expect("no panics while holding the lock");
        failures
            .get(user)
            .is_some_and(|(n, last)| *n >= FAILURES && last.elapsed() < PAUSE)
    }

    /// Counts a wrong password (or a right one, which clears the count).
    pub fn attempt(&self, user: &str, good: bool) {
        let mut failures = self
            .failures
            .lock()
            .expect("no panics while holding the lock");
        if good {
            failures.remove(user);
            return;
        }
        let entry = failures
            .entry(user.to_string())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= PAUSE {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.1 = Instant::now();
    }
}
