//! Posted forms. Every form that changes state comes through [`PostedForm`], which refuses it
//! unless its `csrf_token` field matches the browser's CSRF cookie, so no handler can forget the
//! check. Fields are read by name, and repeated fields (a heartbeat's channels) are kept.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::cookies::CsrfCookie;
use crate::error::PageError;
use crate::state::AppState;

/// Largest form accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The token a page puts in its forms' hidden `csrf_token` field.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    pub fn of(req: &HttpRequest, state: &AppState) -> Self {
        let cookie = req
            .extensions()
            .get::<CsrfCookie>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        CsrfToken(lifeline_auth::csrf::token(&state.secret, &cookie))
    }
}

#[derive(Debug, Default)]
pub struct PostedForm {
    fields: Vec<(String, String)>,
}

impl PostedForm {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            fields: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The first value of a field, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The first value, untrimmed (passwords).
    pub fn raw(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every non-empty value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }
}

/// A message as a sentence: the domain's errors start in lower case ("interval must be …"),
/// forms show them on their own beside a field.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl FromRequest for PostedForm {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|e| PageError::Invalid(format!("cannot read the form: {e}")))?;
            if body.len() > MAX_FORM_BYTES {
                return Err(PageError::Invalid("the form is too large".to_owned()));
            }
            let form = PostedForm::parse(&body);
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| PageError::Internal("no state".to_owned()))?;
            let cookie = req.cookie(crate::cookies::CSRF);
            let valid = cookie.is_some_and(|c| {
                lifeline_auth::csrf::verify(&state.secret, c.value(), form.text("csrf_token"))
            });
            if !valid {
                return Err(PageError::Csrf);
            }
            Ok(form)
        })
    }
}
