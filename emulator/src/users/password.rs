//! Passwords: Appwrite's length rule, and argon2id hashes with the parameters Appwrite uses
//! (memory 2048 KiB, 4 passes, 3 lanes), stored as PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};

const MEMORY_KIB: u32 = 2048;
const PASSES: u32 = 4;
const LANES: u32 = 3;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters"))
}

/// The `hashOptions` of the User model.
pub fn options() -> Value {
    json!({"type": "argon2", "memoryCost": MEMORY_KIB, "timeCost": PASSES, "threads": LANES})
}

/// Hashes `password` with a fresh salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16-byte salt");
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashing").to_string()
}

/// True when `password` matches the stored `phc` hash.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Appwrite's `Password`/`PasswordStrength` rule with the default policy: 8 to 256 bytes.
/// `allow_empty` is the password update's way to remove a password.
pub fn check(param: &str, password: &str, allow_empty: bool) -> ApiResult<()> {
    if allow_empty && password.is_empty() {
        return Ok(());
    }
    if !(8..=256).contains(&password.len()) {
        return Err(ApiError::invalid_param(param, "Password must be between 8 and 256 characters long."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse");
        assert!(a.starts_with("$argon2id$v=19$m=2048,t=4,p=3$"), "{a}");
        assert!(verify("correct horse", &a));
        assert!(!verify("wrong horse", &a));
        assert_ne!(a, hash("correct horse"));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn length_rule() {
        assert!(check("password", "12345678", false).is_ok());
        assert_eq!(
            check("password", "short", false).unwrap_err().message,
            "Invalid `password` param: Password must be between 8 and 256 characters long."
        );
        assert!(check("password", &"x".repeat(257), false).is_err());
        assert!(check("password", "", true).is_ok());
    }
}
