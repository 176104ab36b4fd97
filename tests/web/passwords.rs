//! Changing a password, and resetting a forgotten one through the emailed link.

use diesel_async::RunQueryDsl;
use lifeline_testkit::{SmtpMode, SmtpServer, TestWeb};
use reqwest::StatusCode;

use crate::{link_path, nth_mail_to};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "staple paperclip lamp";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_logs_out_every_other_session() {
    let web = TestWeb::start().await;
    let mut laptop = web.client();
    laptop.sign_up("ada@example.com", PASSWORD, "Engines").await;
    let mut phone = web.client();
    let login = phone.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(phone.get("/heartbeats").await.status, StatusCode::OK);

    let account = laptop.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(
        account.contains("data-account-email>ada@example.com<"),
        "{}",
        account.body
    );
    assert!(account.contains("Engines"));
    assert!(account.contains("data-role>owner<"), "{}", account.body);
    let before = laptop.cookie("ll_session").unwrap();

    let wrong = laptop
        .post(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.contains("the current password is wrong"),
        "{}",
        wrong.body
    );
    let short = laptop
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.contains("at least 8 characters"));

    let changed = laptop
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(changed.location(), Some("/account"));
    // This browser goes on, with a fresh session.
    let page = laptop.follow(&changed).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Your password is changed"), "{}", page.body);
    assert_ne!(laptop.cookie("ll_session").unwrap(), before);

    // The other session is over, and so is a copy of this browser's old cookie.
    let page = phone.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().unwrap().starts_with("/login"));
    let mut copy = web.client();
    copy.set_cookie("ll_session", &before);
    assert_eq!(copy.get("/heartbeats").await.status, StatusCode::SEE_OTHER);

    // Only the new password logs in, at once.
    let old = phone.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = phone.log_in("ada@example.com", NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
    assert_eq!(phone.get("/heartbeats").await.status, StatusCode::OK);

    let audit = laptop.get("/audit").await;
    assert!(
        audit.contains("data-action=\"account.password\""),
        "{}",
        audit.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_sets_a_new_password_once() {
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = TestWeb::start_with(|s| s, Some(smtp.url())).await;
    let mut owner = web.client();
    owner.sign_up("grace@example.com", PASSWORD, "Navy").await;
    let mut forgotten = web.client();
    forgotten.log_in("grace@example.com", PASSWORD).await;

    let mut browser = web.client();
    let form = browser.get("/password-reset").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.contains("name=\"email\""));
    let sent = browser
        .post("/password-reset", &[("email", "Grace@Example.com")])
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.contains("If an account exists"), "{}", sent.body);

    let mail = nth_mail_to(&smtp, "grace@example.com", 1).await;
    assert_eq!(
        mail.subject().as_deref(),
        Some("Reset your Lifeline password")
    );
    let link = link_path(&mail, &web.base, "/password-reset/");
    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("name=\"new_password\""), "{}", page.body);
    assert!(page.contains("grace@example.com"));

    let short = browser.post(&link, &[("new_password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.contains("at least 8 characters"));

    let set = browser.post(&link, &[("new_password", NEW_PASSWORD)]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let landed = browser.follow(&set).await;
    assert_eq!(landed.status, StatusCode::OK, "logged in: {}", landed.body);
    assert!(landed.contains("Your new password is set"));
    assert!(landed.contains("Navy"));

    // The link worked once.
    let again = browser.get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.contains("used already"), "{}", again.body);
    let mut replay = web.client();
    replay.get("/login").await;
    let replayed = replay
        .post(&link, &[("new_password", "a third password")])
        .await;
    assert_eq!(replayed.status, StatusCode::GONE);

    // Every session from before is over; only the new password works.
    assert_eq!(
        forgotten.get("/heartbeats").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(owner.get("/heartbeats").await.status, StatusCode::SEE_OTHER);
    let old = owner.log_in("grace@example.com", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = owner.log_in("grace@example.com", NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);

    let unknown = browser.get("/password-reset/not-a-real-token").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.contains("not valid"));

    // A link left for more than an hour has expired.
    browser
        .post("/password-reset", &[("email", "grace@example.com")])
        .await;
    let mail = nth_mail_to(&smtp, "grace@example.com", 2).await;
    let late = link_path(&mail, &web.base, "/password-reset/");
    let mut conn = web.db.conn().await;
    diesel::sql_query(
        "UPDATE password_resets SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let expired = browser.get(&late).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.contains("expired"), "{}", expired.body);
    let refused = browser
        .post(&late, &[("new_password", "a third password")])
        .await;
    assert_eq!(refused.status, StatusCode::GONE);
    let still = owner.log_in("grace@example.com", NEW_PASSWORD).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER);

    let audit = owner.get("/audit").await;
    assert!(audit.contains("reset by emailed link"), "{}", audit.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_address_gets_the_same_answer_and_no_mail() {
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = TestWeb::start_with(|s| s, Some(smtp.url())).await;
    web.client()
        .sign_up("known@example.com", PASSWORD, "Known")
        .await;

    let mut browser = web.client();
    browser.get("/password-reset").await;
    let known = browser
        .post("/password-reset", &[("email", "known@example.com")])
        .await;
    let unknown = browser
        .post("/password-reset", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        known.body.replace("known@example.com", "X"),
        unknown.body.replace("nobody@example.com", "X"),
        "the answer does not tell which address has an account"
    );

    nth_mail_to(&smtp, "known@example.com", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let recipients: Vec<Vec<String>> = smtp.mails().into_iter().map(|m| m.rcpt_to).collect();
    assert_eq!(recipients, vec![vec!["known@example.com".to_owned()]]);

    // Requests are limited per address, known or not: five, then a wait.
    for _ in 0..4 {
        let page = browser
            .post("/password-reset", &[("email", "nobody@example.com")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let limited = browser
        .post("/password-reset", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.contains("too many password reset requests"));
}
