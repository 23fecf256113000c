//! The response format a client asks for with `X-Appwrite-Response-Format`, and what changes with it.

/// The Appwrite server version the emulator presents itself as.
pub const SERVER_VERSION: &str = "1.9.6";

/// A parsed response-format version; absent or unparsable means the server's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Format {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Format {
    pub const SERVER: Format = Format { major: 1, minor: 9, patch: 6 };

    /// Parses `1.8.0`-style values; anything else falls back to the server's version.
    pub fn parse(value: Option<&str>) -> Format {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Format::SERVER };
        let mut parts = v.split('.').map(|p| p.trim().parse::<u32>());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor)), patch) => {
                Format { major, minor, patch: patch.and_then(Result::ok).unwrap_or(0) }
            }
            _ => Format::SERVER,
        }
    }

    /// True for clients older than 1.9.0 (the CLI's 1.8.0): integer `$sequence`, one `specification`.
    pub fn before_1_9(self) -> bool {
        (self.major, self.minor) < (1, 9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert!(Format::parse(Some("1.8.0")).before_1_9());
        assert!(!Format::parse(Some("1.9.5")).before_1_9());
        assert!(!Format::parse(Some("2.5.0")).before_1_9());
        assert!(!Format::parse(None).before_1_9());
        assert_eq!(Format::parse(Some("garbage")), Format::SERVER);
    }
}
