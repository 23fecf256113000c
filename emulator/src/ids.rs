//! Resource IDs and keys: Appwrite's `unique()` generator and its ID/key validators.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ApiError, ApiResult};

/// The description Appwrite's `CustomId`/`UID` validators give.
pub const ID_DESCRIPTION: &str = "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char";
/// The description of Appwrite's `Key` validator (attribute and index keys).
pub const KEY_DESCRIPTION: &str = "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char";

/// A new ID like PHP's `uniqid()` plus 7 random hex digits (20 hex chars, time-ordered).
pub fn unique() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut micros = now.as_micros() as u64;
    // Keep IDs strictly increasing within the process, like uniqid's microsecond clock.
    loop {
        let last = LAST.load(Ordering::Relaxed);
        if micros <= last {
            micros = last + 1;
        }
        if LAST.compare_exchange(last, micros, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            break;
        }
    }
    let secs = micros / 1_000_000;
    let usec = micros % 1_000_000;
    format!("{:08x}{:05x}{:07x}", secs, usec, rand::random::<u32>() & 0x0fff_ffff)
}

/// True when `id` is a valid custom ID: 1–36 of `[A-Za-z0-9._-]`, not starting with `.`, `-` or `_`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id.as_bytes()[0].is_ascii_alphanumeric()
}

/// Resolves a client-supplied ID: `unique()` becomes a fresh ID, anything else must be valid.
pub fn resolve_id(param: &str, value: &str) -> ApiResult<String> {
    if value == "unique()" {
        return Ok(unique());
    }
    if is_valid_id(value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid_param(param, ID_DESCRIPTION))
    }
}

/// Validates an existing-resource ID taken from a path (no `unique()`).
pub fn check_id(param: &str, value: &str) -> ApiResult<()> {
    if is_valid_id(value) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(param, ID_DESCRIPTION))
    }
}

/// Validates an attribute or index key (the same rule as IDs).
pub fn check_key(param: &str, value: &str) -> ApiResult<()> {
    if is_valid_id(value) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(param, KEY_DESCRIPTION))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_valid_sorted_and_distinct() {
        let a = unique();
        let b = unique();
        assert_eq!(a.len(), 20);
        assert!(is_valid_id(&a));
        assert!(a < b, "{a} < {b}");
    }

    #[test]
    fn id_rules() {
        for ok in ["a", "A1", "a.b-c_d", &"x".repeat(36)] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "_a", "-a", ".a", "a b", "a'b", "a;DROP", &"x".repeat(37), "é"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
