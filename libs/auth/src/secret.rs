//! Random secrets for emailed links (password reset, invitation, address confirmation) and the
//! hash under which they are stored: the database never holds a usable link.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes as URL-safe text (43 characters).
pub fn token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a secret, as stored. Secrets are 256 random bits, so a fast hash is enough.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a presented secret is the expected one, in time that does not depend on where they
/// differ (a bearer key checked byte by byte would leak its prefix through timing).
pub fn same(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn only_the_same_secret_is_the_same() {
        let a = token();
        assert!(same(&a, &a.clone()));
        assert!(!same(&a[..42], &a));
        assert!(!same(&token(), &a));
        assert!(!same("", ""), "an empty key never matches");
    }
}
