//! JSON pointers (RFC 6901) naming where in a file a finding is.

/// Builds a pointer from its segments, escaping `~` and `/`.
pub fn pointer<S: AsRef<str>>(segments: &[S]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&s.as_ref().replace('~', "~0").replace('/', "~1"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pointer;

    #[test]
    fn escapes_slashes_and_tildes() {
        assert_eq!(pointer(&["routes", "/v1/upload", "function"]), "/routes/~1v1~1upload/function");
        assert_eq!(pointer(&["a~b"]), "/a~0b");
        assert_eq!(pointer::<&str>(&[]), "");
    }
}
