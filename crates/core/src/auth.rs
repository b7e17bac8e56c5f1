//! Passwords and tokens. Tokens are random secrets; only their SHA-256 is stored.

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

pub fn validate_password(password: &str) -> CoreResult<()> {
    if password.is_empty() || password.len() > 1024 {
        return Err(CoreError::blank_field("password"));
    }
    Ok(())
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
}
