//! Sign-in sessions: random 128-bit tokens that expire (the API's bearer
//! token, the console's cookie), kept only as
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
    /// The user's password hash at sign-in: a session ends when the user's
    /// password or role changes.
    pub hash: String,
    /// The console's anti-forgery token: every form it serves carries it,
    /// every form it takes must (a page of another site cannot read it).
    pub csrf: String,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions {
    by_digest: Mutex<HashMap<[u8; 32], Session>>,
    /// Per user name: wrong passwords, sign-ins being checked now, and when
    /// the last one ended.
    failures: Mutex<HashMap<String, Attempts>>,
}

#[derive(Clone, Copy)]
struct Attempts {
    failed: u32,
    checking: u32,
    last: Instant,
}

/// Most user names whose wrong passwords are remembered at once.
const REMEMBERED: usize = 10_000;
/// Longest user name looked at; a longer one is a wrong user.
pub const MAX_USER_NAME: usize = 256;
/// Sessions one user may hold at once: signing in again beyond that ends
/// the oldest (a loop of sign-ins cannot grow the server's memory).
const SESSIONS_PER_USER: usize = 16;

/// 128 random bits as hex.
fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(crate::hash::hex(&bytes))
}

/// How long a session lasts, for the console's cookie.
pub const LIFETIME_SECONDS: u64 = LIFETIME.as_secs();

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// A new token for a user who signed in.
    pub fn open(&self, user: &User) -> Result<String, String> {
        let token = random_token()?;
        let session = Session {
            user: user.name.clone(),
            role: user.role,
            expert_level: user.expert_level(),
            hash: user.hash.clone(),
            csrf: random_token()?,
            expires: Instant::now() + LIFETIME,
        };
        let mut map = self
            .by_digest
            .lock()
            .expect("no panics while holding the lock");
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        let mut own: Vec<([u8; 32], Instant)> = map
            .iter()
            .filter(|(_, s)| s.user == user.name)
            .map(|(d, s)| (*d, s.expires))
            .collect();
        if own.len() >= SESSIONS_PER_USER {
            own.sort_by_key(|(_, expires)| *expires);
            for (d, _) in &own[..=own.len() - SESSIONS_PER_USER] {
                map.remove(d);
            }
        }
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

    /// Changes the expert level a session's lists are shown at (until it
    /// ends; the user's own level in users.toml stays).
    pub fn set_expert_level(&self, token: &str, level: ExpertLevel) {
        let mut map = self
            .by_digest
            .lock()
            .expect("no panics while holding the lock");
        if let Some(session) = map.get_mut(&digest(token)) {
            session.expert_level = level;
        }
    }

    /// Ends a session (sign-out).
    pub fn close(&self, token: &str) {
        let mut map = self
            .by_digest
            .lock()
            .expect("no panics while holding the lock");
        map.remove(&digest(token));
    }

    /// Takes a sign-in slot for a user: `false` when sign-ins for it are
    /// paused — wrong passwords and sign-ins still being checked count
    /// together, so parallel guesses get no more tries than sequential ones.
    pub fn begin(&self, user: &str) -> bool {
        let mut failures = self
            .failures
            .lock()
            .expect("no panics while holding the lock");
        if failures.len() >= REMEMBERED {
            failures.retain(|_, a| a.checking > 0 || a.last.elapsed() < PAUSE);
        }
        let entry = failures.entry(user.to_string()).or_insert(Attempts {
            failed: 0,
            checking: 0,
            last: Instant::now(),
        });
        if entry.checking == 0 && entry.last.elapsed() >= PAUSE {
            entry.failed = 0;
        }
        if entry.failed + entry.checking >= FAILURES {
            return false;
        }
        entry.checking += 1;
        true
    }

    /// Ends a sign-in begun with [`Sessions::begin`]: a right password
    /// clears the count, a wrong one adds to it.
    pub fn end(&self, user: &str, good: bool) {
        let mut failures = self
            .failures
            .lock()
            .expect("no panics while holding the lock");
        if let Some(entry) = failures.get_mut(user) {
            entry.checking = entry.checking.saturating_sub(1);
            entry.last = Instant::now();
            if good {
                entry.failed = 0;
            } else {
                entry.failed += 1;
            }
        }
    }
}
