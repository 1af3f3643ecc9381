//! Passwords, session tokens and API keys: how they are made, hashed and checked.
//!
//! Passwords are hashed with argon2id (memory-hard, salted). Tokens and keys are 256 random
//! bits, so a fast SHA-256 is enough to store them: the database never holds a usable
//! credential, and lookups by hash stay indexable.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 cost grows with it; nobody types more).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Prefix of session tokens, so a leaked one is recognisable.
pub const SESSION_PREFIX: &str = "cfs_";
/// Prefix of API keys.
pub const API_KEY_PREFIX: &str = "cfk_";

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// What is wrong with a new password, if anything.
pub fn password_problem(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"))
    } else if chars > MAX_PASSWORD_CHARS {
        Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"))
    } else {
        None
    }
}

/// A new credential: the text given to the client once, and the hash that is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecret {
    /// Shown to the client once; never stored.
    pub plaintext: String,
    /// Hex SHA-256 of `plaintext`, stored and looked up.
    pub hash: String,
    /// The first characters, stored to tell keys apart in lists.
    pub display_prefix: String,
}

/// A new session token or API key with `prefix`.
pub fn new_secret(prefix: &str) -> NewSecret {
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let plaintext = format!("{prefix}{body}");
    NewSecret {
        hash: hash_token(&plaintext),
        display_prefix: plaintext.chars().take(prefix.len() + 6).collect(),
        plaintext,
    }
}

/// Hex SHA-256 of a presented token or key.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a hash"));
        // Salted: the same password hashes differently each time.
        assert_ne!(phc, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn secrets_are_random_prefixed_and_stored_hashed() {
        let a = new_secret(API_KEY_PREFIX);
        let b = new_secret(API_KEY_PREFIX);
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.starts_with("cfk_") && a.plaintext.len() == 4 + 43);
        assert_eq!(a.hash, hash_token(&a.plaintext));
        assert_eq!(a.hash.len(), 64);
        assert!(a.plaintext.starts_with(&a.display_prefix));
        assert!(!a.hash.contains(&a.plaintext[4..]));
    }

    #[test]
    fn password_rules() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough").is_none());
        assert!(password_problem(&"x".repeat(300)).is_some());
    }
}
