//! The private-address guard against a live receiver on 127.0.0.1: when private targets are
//! not allowed, the receiver must get nothing.

use lifeline_domain::{ChannelKind, NotificationKind};
use lifeline_notify::{Notifier, NotifySettings, SendError, Target, validate_target};

use crate::support::{HttpServer, Reply, message, notifier, settings, webhook};

fn public_only() -> NotifySettings {
    NotifySettings {
        allow_private_targets: false,
        ..settings()
    }
}

/// Sends an alert to `url` as a webhook and as a Slack channel; both must be refused for good.
async fn both_refused(notifier: &Notifier, url: &str) -> [SendError; 2] {
    let alert = message(NotificationKind::Alert);
    let as_webhook = notifier.send(webhook(url), &alert).await;
    let as_slack = notifier.send(Target::Slack { url }, &alert).await;
    [as_webhook, as_slack].map(|sent| {
        let err = sent.unwrap_err();
        assert!(err.permanent, "{url}: {err:?}");
        err
    })
}

#[tokio::test]
async fn ip_literal_is_refused() {
    let server = HttpServer::start(Reply::Status(200, "")).await;
    let notifier = notifier(public_only());
    for url in [
        server.url("/hook"),
        format!("http://[::ffff:127.0.0.1]:{}/hook", server.addr.port()),
        format!("http://2130706433:{}/hook", server.addr.port()),
    ] {
        let [as_webhook, as_slack] = both_refused(&notifier, &url).await;
        // The team reads that the target is not public, never which address it was; the
        // operator's logs have it.
        for refused in [&as_webhook, &as_slack] {
            assert_eq!(
                refused.message, "target refused: not a public address",
                "{url}"
            );
            assert!(!refused.message.contains("127.0.0.1"));
        }
        // The operator's detail names the address and the setting that allows it, in the
        // words of the channel's kind; the team's message names neither.
        for (refused, words) in [
            (&as_webhook, "webhooks may"),
            (&as_slack, "Slack channels may"),
        ] {
            let detail = refused.detail.as_deref().unwrap_or_default();
            assert!(
                detail.contains("127.0.0.1 is a private address"),
                "{url}: {refused:?}"
            );
            assert!(detail.contains(words), "{url}: {refused:?}");
            assert!(
                detail.contains("LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1"),
                "{url}: {refused:?}"
            );
            assert!(!refused.message.contains("LIFELINE_"));
        }
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn name_resolving_to_loopback_is_refused_by_the_resolver() {
    let server = HttpServer::start(Reply::Status(200, "")).await;
    let url = format!("http://localhost:{}/hook", server.addr.port());
    // The same URL passes creation-time checks when private targets are allowed, and the
    // refusal below comes from resolution at send time.
    assert!(validate_target(ChannelKind::Webhook, &url, true).is_ok());

    let [as_webhook, as_slack] = both_refused(&notifier(public_only()), &url).await;
    for refused in [&as_webhook, &as_slack] {
        assert_eq!(refused.message, "target refused: not a public address");
        assert!(
            refused.detail.as_deref().is_some_and(|d| d
                .starts_with("refused: localhost resolves to private address ")
                && d.contains("LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1")),
            "{refused:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn allowed_when_the_operator_says_so() {
    let server = HttpServer::start(Reply::Status(200, "")).await;
    let notifier = notifier(settings()); // allow_private_targets: true
    for url in [
        server.url("/hook"),
        format!("http://localhost:{}/hook", server.addr.port()),
    ] {
        notifier
            .send(webhook(&url), &message(NotificationKind::Alert))
            .await
            .unwrap();
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn malformed_urls_are_permanent() {
    let notifier = notifier(settings());
    for url in ["not a url", "ftp://example.com/", "file:///etc/passwd"] {
        let err = notifier
            .send(
                Target::Webhook {
                    url,
                    secret: "whsec_x",
                },
                &message(NotificationKind::Alert),
            )
            .await
            .unwrap_err();
        assert!(err.permanent, "{url}: {err:?}");
    }
}
