/// A connection URL fit for logs: `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
/// Settings structs print their URLs through it, so a password never reaches a log line.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The authority ends at the first '/', '?' or '#'; its userinfo at the last '@' in it.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            redacted_url("postgres://lifeline:s3cr:et@db.example.com:5432/lifeline"),
            "postgres://lifeline:***@db.example.com:5432/lifeline"
        );
        assert_eq!(
            redacted_url("smtp://u:p%40ss@mail.example.com:587?tls=required"),
            "smtp://u:***@mail.example.com:587?tls=required"
        );
        for unchanged in [
            "redis://127.0.0.1:6379",
            "postgres://postgres@127.0.0.1/x",
            "unix:///run/redis.sock",
            "http://example.com/a@b",
        ] {
            assert_eq!(redacted_url(unchanged), unchanged);
        }
    }
}
