//! CSRF tokens, signed double submit: every browser gets a random `ll_csrf` cookie, and every form
//! that changes state carries `csrf_token` = HMAC(secret, cookie). A forged cross-site form cannot
//! read the cookie, so it cannot compute the token; the HMAC means a cookie planted by a sibling
//! subdomain is useless without the server's secret. Works the same before and after log-in.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The form token for a browser's CSRF cookie.
pub fn token(secret: &[u8], cookie: &str) -> String {
    hex::encode(mac(secret, cookie))
}

/// Whether a submitted form token belongs to the browser's cookie.
pub fn verify(secret: &[u8], cookie: &str, submitted: &str) -> bool {
    let Ok(submitted) = hex::decode(submitted) else {
        return false;
    };
    !cookie.is_empty() && mac(secret, cookie).ct_eq(&submitted).into()
}

fn mac(secret: &[u8], cookie: &str) -> Vec<u8> {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(b"csrf:");
    mac.update(cookie.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_cookie_and_secret_only() {
        let t = token(b"secret", "cookie-a");
        assert!(verify(b"secret", "cookie-a", &t));
        assert!(!verify(b"secret", "cookie-b", &t));
        assert!(!verify(b"other", "cookie-a", &t));
        assert!(!verify(b"secret", "cookie-a", "zz"));
        assert!(!verify(b"secret", "", &token(b"secret", "")));
    }
}
