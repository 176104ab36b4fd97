//! Team API keys for the management API: `ll_` and 40 random characters. Shown once; stored as
//! their SHA-256 with a short prefix so a team can tell its keys apart.

use crate::secret;

pub const PREFIX: &str = "ll_";
/// Characters of the key kept in clear (the `ll_` and the first random characters).
const SHOWN: usize = 10;

/// A freshly made key: `key` goes to the user once, the rest is stored.
#[derive(Debug)]
pub struct ApiKey {
    pub key: String,
    pub prefix: String,
    pub hash: KeyHash,
}

pub type KeyHash = [u8; 32];

impl ApiKey {
    pub fn generate() -> Self {
        let key = format!("{PREFIX}{}", &secret::token()[..40]);
        Self {
            prefix: key[..SHOWN].to_owned(),
            hash: secret::digest(&key),
            key,
        }
    }
}

/// The stored hash of a key presented in `Authorization: Bearer …`; `None` when it cannot be one
/// of ours, so malformed keys never reach the database.
pub fn presented(key: &str) -> Option<KeyHash> {
    let rest = key.strip_prefix(PREFIX)?;
    (rest.len() == 40
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| secret::digest(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_recognised_by_its_hash() {
        let k = ApiKey::generate();
        assert!(k.key.starts_with("ll_"));
        assert_eq!(k.key.len(), 43);
        assert!(k.key.starts_with(&k.prefix));
        assert_eq!(presented(&k.key), Some(k.hash));
        assert_eq!(presented("ll_short"), None);
        assert_eq!(presented(&k.key.replacen("ll_", "xx_", 1)), None);
    }
}
