//! Building links with query strings, escaped once here.

/// The login page, returning to `back_to` (a path on this site) afterwards.
pub fn login_then(back_to: &str) -> String {
    if back_to.is_empty() || back_to == "/" {
        return "/login".to_owned();
    }
    format!("/login?{}", query(&[("next", back_to)]))
}

/// `a=1&b=2`, form-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Where to go after logging in: only paths on this site, so a crafted `next` cannot send the
/// user elsewhere (`//evil.example` and `/\evil.example` are other sites to a browser).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/heartbeats".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/heartbeats/1")), "/heartbeats/1");
        assert_eq!(safe_next(Some("//evil.example")), "/heartbeats");
        assert_eq!(safe_next(Some("/\\evil.example")), "/heartbeats");
        assert_eq!(safe_next(Some("https://evil.example")), "/heartbeats");
        assert_eq!(safe_next(None), "/heartbeats");
        assert_eq!(
            login_then("/channels?x=1"),
            "/login?next=%2Fchannels%3Fx%3D1"
        );
    }
}
