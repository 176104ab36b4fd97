//! Email over SMTP (lettre).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::message::{Message, render_text};
use crate::{Delivered, SendError, SettingError, timed_out};

pub(crate) type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// What `LIFELINE_SMTP_URL` accepts, for its errors.
pub(crate) const SMTP_URL_FORMS: &str = "accepted forms: smtps://HOST[:PORT] (TLS from the \
    start), smtp://HOST[:PORT]?tls=required (STARTTLS), smtp://HOST[:PORT]?tls=opportunistic, \
    smtp://HOST[:PORT] (no TLS), each optionally with USER:PASSWORD@ before the host";

/// Builds the transport; no connection is made until the first send.
pub(crate) fn transport(url: &str, timeout: Duration) -> Result<Transport, SettingError> {
    // lettre's messages do not echo the URL, and the URL is shown redacted, so the password
    // stays out of the error. lettre's words alone ("relative URL without a base") do not say
    // what to write instead: the accepted forms do.
    let builder = Transport::from_url(url).map_err(|e| {
        SettingError::new(
            "LIFELINE_SMTP_URL",
            format!(
                "{:?} is not an SMTP URL ({e}); {SMTP_URL_FORMS}",
                lifeline_settings::redacted_url(url)
            ),
        )
    })?;
    Ok(builder.timeout(Some(timeout)).build())
}

pub(crate) fn from_mailbox(from: &str) -> Result<Mailbox, SettingError> {
    from.parse::<Mailbox>().map_err(|e| {
        SettingError::new(
            "LIFELINE_SMTP_FROM",
            format!("{from:?} is not an email address: {e}"),
        )
    })
}

pub(crate) async fn send(
    transport: &Transport,
    from: &Mailbox,
    timeout: Duration,
    to: &str,
    message: &Message,
    public_url: &str,
) -> Result<Delivered, SendError> {
    let (subject, body) = render_text(message, public_url);
    // The same Message-ID on every retry, so mail clients can fold duplicates.
    let message_id = format!("<{}@{}>", message.notification_id, from.email.domain());
    send_text(
        transport,
        from,
        timeout,
        Text {
            to,
            subject: &subject,
            body: &body,
            message_id: Some(message_id),
        },
    )
    .await
}

/// One plain-text email.
pub(crate) struct Text<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// `None`: lettre makes one up.
    pub message_id: Option<String>,
}

pub(crate) async fn send_text(
    transport: &Transport,
    from: &Mailbox,
    timeout: Duration,
    text: Text<'_>,
) -> Result<Delivered, SendError> {
    let to = text.to.trim();
    let to_address: lettre::Address = to
        .parse()
        .map_err(|e| SendError::permanent(format!("invalid email address {to:?}: {e}")))?;
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to_address))
        .subject(text.subject)
        .message_id(text.message_id)
        .header(ContentType::TEXT_PLAIN)
        .body(text.body.to_owned())
        .map_err(|e| SendError::permanent(format!("cannot build the email: {e}")))?;

    // lettre's timeout bounds each socket operation; this bounds the whole transaction.
    let response = match tokio::time::timeout(timeout, transport.send(email)).await {
        Err(_) => return Err(SendError::retryable(timed_out(timeout))),
        Ok(Err(e)) => return Err(classify(&e, timeout)),
        Ok(Ok(response)) => response,
    };
    let first_line = response.first_line().unwrap_or("").trim();
    Ok(Delivered {
        detail: format!("{} {first_line}", response.code())
            .trim()
            .to_owned(),
    })
}

/// A 5xx reply is permanent (the server will not take this mail); everything else is worth
/// another try.
fn classify(e: &lettre::transport::smtp::Error, timeout: Duration) -> SendError {
    if e.is_timeout() {
        return SendError::retryable(timed_out(timeout));
    }
    // The team reads the SMTP status; the server's own words (host names, relays) go to the
    // operator's logs.
    let summary = match e.status() {
        Some(code) => format!("SMTP: the mail server answered {code}"),
        None => "SMTP: the mail server could not be reached".to_owned(),
    };
    let error = if e.is_permanent() {
        SendError::permanent(summary)
    } else {
        SendError::retryable(summary)
    };
    error.with_detail(format!("SMTP: {e}"))
}
