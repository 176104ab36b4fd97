//! Email over SMTP (lettre).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::message::{Message, render_text};
use crate::{Delivered, SendError, SettingError, timed_out};

pub(crate) type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport; no connection is made until the first send.
pub(crate) fn transport(url: &str, timeout: Duration) -> Result<Transport, SettingError> {
    // lettre's messages do not echo the URL, so the password stays out of the error.
    let builder = Transport::from_url(url)
        .map_err(|e| SettingError::new("LIFELINE_SMTP_URL", e.to_string()))?;
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
    let id = format!("<{}@{}>", message.notification_id, from.email.domain());
    deliver(transport, from, timeout, to, &subject, body, Some(id)).await
}

/// A plain-text email that is not a notification (the dashboard's confirmation links).
pub(crate) async fn send_plain(
    transport: &Transport,
    from: &Mailbox,
    timeout: Duration,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<Delivered, SendError> {
    // The subject goes into a header: one line only.
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    deliver(
        transport,
        from,
        timeout,
        to,
        subject.trim(),
        body.to_owned(),
        None,
    )
    .await
}

async fn deliver(
    transport: &Transport,
    from: &Mailbox,
    timeout: Duration,
    to: &str,
    subject: &str,
    body: String,
    message_id: Option<String>,
) -> Result<Delivered, SendError> {
    let to = to.trim();
    let to_address: lettre::Address = to
        .parse()
        .map_err(|e| SendError::permanent(format!("invalid email address {to:?}: {e}")))?;
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to_address))
        .subject(subject)
        // Without an id of ours, lettre makes a random one.
        .message_id(message_id)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
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
    let text = format!("SMTP: {e}");
    if e.is_permanent() {
        SendError::permanent(text)
    } else {
        SendError::retryable(text)
    }
}
