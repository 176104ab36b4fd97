//! Sessions are HS256 JWTs carried in an HttpOnly cookie. A token names its user and its own
//! session id (`jti`), which is what logging out revokes; expiry is part of the signed claims.
//! Only HS256 is accepted: a token signed with another algorithm, or with `alg: none`, or edited
//! after signing, or past its `exp`, is refused.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lifeline_domain::UserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The session, revoked by logging out.
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn user(&self) -> UserId {
        UserId::from_uuid(self.sub)
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("the session has expired")]
    Expired,
    #[error("the session token is not valid")]
    Invalid,
}

/// The signing secret and the lifetime of new sessions.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: Duration,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A new session for `user`, valid for `ttl` from `now`.
    pub fn issue(&self, user: UserId, now: DateTime<Utc>) -> (String, Claims) {
        let claims = Claims {
            sub: user.as_uuid(),
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: (now + self.ttl).timestamp(),
        };
        // Serialising four fields with an HMAC key cannot fail.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        (token, claims)
    }

    /// The claims of a token this server signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, SessionError> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => SessionError::Expired,
                _ => SessionError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> SessionKeys {
        SessionKeys::new(b"0123456789abcdef0123456789abcdef", Duration::days(14))
    }

    #[test]
    fn an_issued_token_verifies() {
        let user = UserId::new();
        let (token, claims) = keys().issue(user, Utc::now());
        let back = keys().verify(&token).unwrap();
        assert_eq!(back, claims);
        assert_eq!(back.user(), user);
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let k = keys();
        let (old, _) = k.issue(UserId::new(), Utc::now() - Duration::days(15));
        assert_eq!(k.verify(&old), Err(SessionError::Expired));

        let (token, _) = k.issue(UserId::new(), Utc::now());
        let parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": Uuid::new_v4(), "jti": Uuid::new_v4(), "iat": 0, "exp": 4_000_000_000i64}).to_string(),
        );
        let tampered = format!("{}.{}.{}", parts[0], other, parts[2]);
        assert_eq!(k.verify(&tampered), Err(SessionError::Invalid));

        let stranger = SessionKeys::new(b"another secret of thirty-two byt", Duration::days(1));
        let (foreign, _) = stranger.issue(UserId::new(), Utc::now());
        assert_eq!(k.verify(&foreign), Err(SessionError::Invalid));
        assert_eq!(k.verify("garbage"), Err(SessionError::Invalid));
    }

    #[test]
    fn alg_none_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": Uuid::new_v4(), "jti": Uuid::new_v4(), "iat": 0, "exp": 4_000_000_000i64}).to_string(),
        );
        for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            assert_eq!(keys().verify(&token), Err(SessionError::Invalid));
        }
    }
}
