//! The dashboard and the management API, through HTTP as browsers and scripts use them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod ai;
mod api;
mod billing;
mod channels;
mod detail;
mod heartbeats;
mod isolation;
mod passwords;
mod teams;

use lifeline_testkit::{Mail, PATIENCE, SmtpServer, wait_for};

/// The `n`-th mail (counting from 1) received for `to`, waiting for it.
pub(crate) async fn nth_mail_to(smtp: &SmtpServer, to: &str, n: usize) -> Mail {
    let mails = wait_for(
        PATIENCE,
        async || {
            smtp.mails()
                .into_iter()
                .filter(|m| m.rcpt_to.iter().any(|r| r == to))
                .collect::<Vec<_>>()
        },
        |mails| mails.len() >= n,
    )
    .await;
    assert!(mails.len() >= n, "mail #{n} to {to} never came: {mails:?}");
    mails[n - 1].clone()
}

/// The path of the link to `base` + `prefix`… in a mail's body.
pub(crate) fn link_path(mail: &Mail, base: &str, prefix: &str) -> String {
    let body = mail.body();
    let start = body
        .find(&format!("{base}{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in {body}"));
    let link = body[start..].split_whitespace().next().unwrap_or_default();
    link[base.len()..].to_owned()
}
