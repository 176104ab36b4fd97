use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Random bytes in a ping token: 192 bits, comfortably above the 128 the design asks for.
const TOKEN_BYTES: usize = 24;
/// Length of a token in its URL-safe base64 form (no padding).
pub const TOKEN_LEN: usize = TOKEN_BYTES * 4 / 3;

/// The secret part of a ping URL. Only `generate` and `parse` make one, so a value of this type
/// is always well-formed. Lookups go by [`PingToken::lookup_hash`], never by the token itself,
/// so no comparison ever runs over the secret and it never needs to sit in Redis or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PingToken(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed ping token")]
pub struct MalformedToken;

impl PingToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn parse(s: &str) -> Result<Self, MalformedToken> {
        let well_formed = s.len() == TOKEN_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            // Decoded onto the stack: every ping parses its token, so no allocation for a check.
            && URL_SAFE_NO_PAD
                .decode_slice(s, &mut [0u8; TOKEN_BYTES])
                .is_ok_and(|n| n == TOKEN_BYTES);
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    /// SHA-256 of the token: the key under which storage and caches find the heartbeat.
    pub fn lookup_hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first characters, enough to tell tokens apart in logs without revealing them.
    pub fn redacted(&self) -> String {
        format!("{}…", &self.0[..4])
    }
}

impl std::fmt::Debug for PingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PingToken({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = PingToken::generate();
        let b = PingToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_eq!(PingToken::parse(a.expose()), Ok(a.clone()));
        assert_ne!(a.lookup_hash(), b.lookup_hash());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = PingToken::generate();
        let long = format!("{}A", good.expose());
        let short = &good.expose()[1..];
        let slash = format!("{}/", &good.expose()[1..]);
        let plus = format!("{}+", &good.expose()[1..]);
        for bad in [
            long.as_str(),
            short,
            slash.as_str(),
            plus.as_str(),
            "",
            "../../etc/passwd",
        ] {
            assert_eq!(PingToken::parse(bad), Err(MalformedToken), "{bad:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let token = PingToken::generate();
        let shown = format!("{token:?}");
        assert!(!shown.contains(token.expose()));
        assert!(shown.contains(&token.expose()[..4]));
    }
}
