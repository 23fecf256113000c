//! Time, passed in so tests can move it: the emulator never reads the system clock directly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A clock that follows real time shifted by an offset the tests can change.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Sets the clock to `to`, keeping it running from there.
    pub fn set(&self, to: DateTime<Utc>) {
        let delta = to - Utc::now();
        self.offset_ms.store(delta.num_milliseconds(), Ordering::Relaxed);
    }

    /// `now()` formatted the way Appwrite formats dates.
    pub fn now_iso(&self) -> String {
        iso(self.now())
    }
}

/// Appwrite's date format: `2026-08-21T12:47:11.123+00:00`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// Parses any ISO 8601 / RFC 3339 date (with or without offset, with or without fraction) to UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

/// Normalises a date to the stored form (UTC, milliseconds), which sorts as text.
pub fn normalize_datetime(s: &str) -> Option<String> {
    parse_datetime(s).map(iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_appwrite() {
        let t = Utc.with_ymd_and_hms(2026, 8, 21, 12, 47, 11).unwrap();
        assert_eq!(iso(t), "2026-08-21T12:47:11.000+00:00");
    }

    #[test]
    fn normalizes_offsets_and_shapes() {
        assert_eq!(normalize_datetime("2026-01-01T02:00:00+02:00").unwrap(), "2026-01-01T00:00:00.000+00:00");
        assert_eq!(normalize_datetime("2026-01-01").unwrap(), "2026-01-01T00:00:00.000+00:00");
        assert_eq!(normalize_datetime("2026-01-01 10:11:12.5").unwrap(), "2026-01-01T10:11:12.500+00:00");
        assert!(normalize_datetime("yesterday").is_none());
    }

    #[test]
    fn clock_moves() {
        let c = Clock::default();
        let before = c.now();
        c.advance(chrono::Duration::days(2));
        assert!(c.now() - before >= chrono::Duration::days(2));
    }
}
