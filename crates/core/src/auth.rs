//! Passwords and tokens. Tokens are random secrets; only their SHA-256 is
//! stored. Password hashing is slow on purpose, so it runs on blocking
//! threads behind a [`PasswordGate`] that also limits failed logins and
//! remembers recently verified Basic credentials.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

pub fn hash_password(password: &str) -> CoreResult<String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| CoreError::Internal(format!("password salt: {e}").into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}").into()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new token secret: 160 random bits as hex, the shape Deis tokens had.
pub fn new_token_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}

pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A compact HS256 JSON Web Token over `claims`. Tapis clients decode it
/// (without verifying) for its `exp`; Berth authenticates it like any other
/// token, by its hash, so signing only has to make it a well-formed,
/// tamper-evident JWT.
pub fn sign_jwt(key: &[u8], claims: &serde_json::Value) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    let signature = b64.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

pub fn validate_username(name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 150
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c));
    if !ok {
        return Err(CoreError::invalid_field(
            "username",
            "Enter a valid username: at most 150 letters, digits and @/./+/-/_ characters.",
        ));
    }
    Ok(())
}

/// The shortest password any dialect accepts.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The one password policy of every dialect: 8 to 1024 characters.
pub fn validate_password(password: &str) -> CoreResult<()> {
    if password.is_empty() || password.len() > 1024 {
        return Err(CoreError::blank_field("password"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(CoreError::invalid_field(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Who may create accounts through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Registration {
    /// Anyone.
    #[default]
    Open,
    /// Administrators only.
    Admin,
    /// Nobody: accounts are made with `berth admin create`.
    Closed,
}

impl FromStr for Registration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Registration::Open),
            "admin" => Ok(Registration::Admin),
            "closed" => Ok(Registration::Closed),
            other => Err(format!(
                "unknown registration mode {other:?}: expected open, admin or closed"
            )),
        }
    }
}

/// How many failed logins a client address, and a user name, may have in
/// one [`LoginLimits::window`] before further attempts are refused (429).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_address: u32,
    pub per_user: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_address: 30,
            per_user: 10,
            window: Duration::from_secs(60),
        }
    }
}

/// How long verified Basic credentials are trusted without hashing again.
const VERIFIED_TTL: Duration = Duration::from_secs(30);
/// At most this many verified credentials are remembered.
const VERIFIED_CAPACITY: usize = 1024;
/// At most this many attempt counters are kept; beyond, the expired windows go.
const ATTEMPT_CAPACITY: usize = 16_384;

/// Failed (or unchecked) logins of one key within the current window.
struct Attempts {
    since: Instant,
    count: u32,
}

/// Runs password hashing off the async workers, a few at a time, counts
/// failed logins per client address and per user name, and remembers
/// verified Basic credentials for a short while.
pub struct PasswordGate {
    hashing: tokio::sync::Semaphore,
    limits: LoginLimits,
    attempts: Mutex<HashMap<String, Attempts>>,
    /// SHA-256 of `user\0secret` → (the password hash it matched, when).
    verified: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl PasswordGate {
    pub fn new(limits: LoginLimits) -> Self {
        // One core stays free for the API and the reconciler.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordGate {
            hashing: tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)),
            limits,
            attempts: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// [`hash_password`] on a blocking thread.
    pub async fn hash(&self, password: &str) -> CoreResult<String> {
        let password = password.to_string();
        self.blocking(move || hash_password(&password)).await?
    }

    /// [`verify_password`] on a blocking thread.
    pub async fn verify(&self, password: &str, hash: &str) -> CoreResult<bool> {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.blocking(move || verify_password(&password, &hash))
            .await
    }

    /// Spends as long as verifying a real password, for a user that does
    /// not exist, so timing does not tell the two apart.
    pub async fn verify_nobody(&self, password: &str) -> CoreResult<()> {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let password = password.to_string();
        self.blocking(move || {
            let hash = DUMMY.get_or_init(|| {
                hash_password("no such user, no such password").unwrap_or_default()
            });
            verify_password(&password, hash);
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> CoreResult<T> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| CoreError::internal("password hashing", e))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| CoreError::internal("password hashing", e))
    }

    /// Refuses (429) while `peer` or `username` is at its limit of failed
    /// (or still unchecked) logins; else counts this attempt against both
    /// until [`PasswordGate::succeeded`] takes it back. Counting attempts
    /// before they are checked keeps a concurrent burst within the limit.
    pub fn admit(&self, peer: Option<IpAddr>, username: &str) -> CoreResult<()> {
        let now = Instant::now();
        let window = self.limits.window;
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let over = |attempts: &HashMap<String, Attempts>, key: &str, limit: u32| {
            attempts
                .get(key)
                .is_some_and(|a| now.duration_since(a.since) < window && a.count >= limit)
        };
        let by_address =
            peer.is_some_and(|ip| over(&attempts, &address_key(ip), self.limits.per_address));
        if by_address || over(&attempts, &user_key(username), self.limits.per_user) {
            return Err(CoreError::TooManyAttempts(
                "Too many failed login attempts; try again later.".into(),
            ));
        }
        if attempts.len() >= ATTEMPT_CAPACITY {
            attempts.retain(|_, a| now.duration_since(a.since) < window);
        }
        for key in keys(peer, username) {
            let entry = attempts.entry(key).or_insert(Attempts {
                since: now,
                count: 0,
            });
            if now.duration_since(entry.since) >= window {
                *entry = Attempts {
                    since: now,
                    count: 0,
                };
            }
            entry.count += 1;
        }
        Ok(())
    }

    /// Takes back the attempt [`PasswordGate::admit`] counted: it succeeded.
    pub fn succeeded(&self, peer: Option<IpAddr>, username: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys(peer, username) {
            if let Some(entry) = attempts.get_mut(&key) {
                entry.count = entry.count.saturating_sub(1);
            }
        }
    }

    /// Whether `username` and `secret` were verified against `password_hash`
    /// (the user's current one) a short while ago.
    pub fn recently_verified(&self, username: &str, secret: &str, password_hash: &str) -> bool {
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified
            .get(&credential_key(username, secret))
            .is_some_and(|(hash, at)| hash == password_hash && at.elapsed() < VERIFIED_TTL)
    }

    /// Remembers that `username` and `secret` matched `password_hash`.
    pub fn remember_verified(&self, username: &str, secret: &str, password_hash: &str) {
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_CAPACITY {
            verified.retain(|_, (_, at)| at.elapsed() < VERIFIED_TTL);
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(
            credential_key(username, secret),
            (password_hash.to_string(), Instant::now()),
        );
    }
}

/// The counters a login attempt counts against.
fn keys(peer: Option<IpAddr>, username: &str) -> impl Iterator<Item = String> {
    peer.map(address_key)
        .into_iter()
        .chain([user_key(username)])
}

fn address_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

fn user_key(username: &str) -> String {
    format!("user:{username}")
}

fn credential_key(username: &str, secret: &str) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(username.as_bytes());
    digest.update([0]);
    digest.update(secret.as_bytes());
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("opensesame").unwrap();
        assert!(verify_password("opensesame", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("opensesame", "not-a-hash"));
    }

    #[test]
    fn token_secrets_are_unique_and_hashed() {
        let a = new_token_secret();
        assert_eq!(a.len(), 40);
        assert_ne!(a, new_token_secret());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn jwts_are_three_base64url_parts_with_the_claims() {
        use base64::Engine;
        let jwt = sign_jwt(b"k", &serde_json::json!({"exp": 5, "sub": "ann"}));
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&claims).unwrap()["sub"],
            "ann"
        );
        assert_ne!(
            jwt,
            sign_jwt(b"other", &serde_json::json!({"exp": 5, "sub": "ann"}))
        );
    }

    #[test]
    fn usernames() {
        assert!(validate_username("test.user+1@x").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("has space").is_err());
    }

    #[test]
    fn one_password_policy() {
        assert!(validate_password("alice-pw-1").is_ok());
        assert!(validate_password("short").is_err());
        assert!(validate_password("").is_err());
    }

    #[test]
    fn failed_logins_are_limited_per_user_and_per_address() {
        let gate = PasswordGate::new(LoginLimits {
            per_address: 3,
            per_user: 2,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        // A success takes its attempt back.
        gate.admit(Some(ip), "ann").unwrap();
        gate.succeeded(Some(ip), "ann");
        gate.admit(Some(ip), "ann").unwrap();
        gate.admit(Some(ip), "ann").unwrap();
        assert!(matches!(
            gate.admit(None, "ann"),
            Err(CoreError::TooManyAttempts(_))
        ));
        gate.admit(Some(ip), "bob").unwrap();
        assert!(gate.admit(Some(ip), "carl").is_err());
        assert!(gate.admit(None, "carl").is_ok());
    }

    #[test]
    fn verified_credentials_follow_the_password_hash() {
        let gate = PasswordGate::new(LoginLimits::default());
        gate.remember_verified("ann", "pw", "hash-1");
        assert!(gate.recently_verified("ann", "pw", "hash-1"));
        assert!(!gate.recently_verified("ann", "pw", "hash-2"));
        assert!(!gate.recently_verified("ann", "other", "hash-1"));
    }
}
