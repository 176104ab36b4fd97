//! Sign-up, log-in, log-out, sessions and CSRF.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lifeline_testkit::TestWeb;
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_lands_on_an_empty_heartbeat_list_that_says_what_to_do() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    let page = browser
        .sign_up("ada@example.com", PASSWORD, "Analytical")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("No heartbeats yet"), "{}", page.body);
    assert!(page.contains("Create your first heartbeat"));
    assert!(page.contains("Analytical"), "the team's name is shown");

    let session = page_cookie_flags(&web).await;
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(
        session.contains("Expires="),
        "the session cookie expires: {session}"
    );
    assert!(!session.contains("Secure"), "plain http: {session}");
}

/// The Set-Cookie line of the session cookie a fresh sign-up gets.
async fn page_cookie_flags(web: &TestWeb) -> String {
    let mut browser = web.client();
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let csrf = browser.get("/signup").await.csrf_token().unwrap();
    let response = browser
        .http
        .post(format!("{}/signup", web.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("team", "Flags"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("ll_session="))
        .expect("a session cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_public_url_makes_cookies_secure() {
    let web = TestWeb::start_with(
        |mut s| {
            s.public_url = "https://lifeline.example.com".to_owned();
            s
        },
        None,
    )
    .await;
    let session = page_cookie_flags(&web).await;
    assert!(session.contains("Secure"), "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_out_revokes_the_session_even_when_the_cookie_is_replayed() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    browser.sign_up("grace@example.com", PASSWORD, "Navy").await;
    let stolen = browser.cookie("ll_session").unwrap();

    let out = browser.post("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/login"));
    let page = browser.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "logged out");
    assert!(page.location().unwrap().starts_with("/login"));

    // Someone who copied the cookie before the logout cannot use it.
    let mut thief = web.client();
    thief.set_cookie("ll_session", &stolen);
    let page = thief.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    // Logging in again works, with a new session.
    let back = browser.log_in("grace@example.com", PASSWORD).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(browser.get("/heartbeats").await.status, StatusCode::OK);
    assert_ne!(browser.cookie("ll_session").unwrap(), stolen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_foreign_and_alg_none_tokens_are_refused() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    browser
        .sign_up("linus@example.com", PASSWORD, "Kernel")
        .await;
    let token = browser.cookie("ll_session").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let mut longer = claims.clone();
    longer["exp"] = serde_json::json!(4_000_000_000i64);
    let edited = URL_SAFE_NO_PAD.encode(longer.to_string());
    let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    for forged in [
        format!("{}.{}.{}", parts[0], edited, parts[2]),
        format!("{none}.{edited}."),
        format!("{none}.{}.", parts[1]),
        "not-a-token".to_owned(),
    ] {
        let mut mallory = web.client();
        mallory.set_cookie("ll_session", &forged);
        let page = mallory.get("/heartbeats").await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{forged}: {}",
            page.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_sends_the_user_to_log_in() {
    let web = TestWeb::start_with(
        |mut s| {
            s.session_ttl = std::time::Duration::from_secs(1);
            s
        },
        None,
    )
    .await;
    let mut browser = web.client();
    browser
        .sign_up("short@example.com", PASSWORD, "Brief")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = browser.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Fheartbeats"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_are_refused() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    browser.get("/signup").await;
    let page = browser
        .post_raw(
            "/signup",
            &[
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("team", "X"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.contains("this form has expired"), "{}", page.body);
    let page = browser
        .post_raw(
            "/signup",
            &[
                ("csrf_token", "00ff"),
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("team", "X"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Another browser's token does not fit this browser's cookie.
    let mut other = web.client();
    let foreign = other.get("/signup").await.csrf_token().unwrap();
    let page = browser
        .post_raw(
            "/signup",
            &[
                ("csrf_token", foreign.as_str()),
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("team", "X"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Signed in, logging out needs the token too.
    browser
        .sign_up("csrf@example.com", PASSWORD, "Tokens")
        .await;
    let page = browser.post_raw("/logout", &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/heartbeats").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_refuses_bad_input_and_taken_addresses_with_a_message() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    browser
        .sign_up("taken@example.com", PASSWORD, "First")
        .await;
    let mut other = web.client();
    for (email, password, team, message) in [
        ("taken@example.com", PASSWORD, "Second", "already exists"),
        ("not-an-email", PASSWORD, "T", "is not an email address"),
        ("new@example.com", "short", "T", "at least 8 characters"),
        ("new@example.com", PASSWORD, "", "1 to 100 characters"),
    ] {
        other.get("/signup").await;
        let page = other
            .post(
                "/signup",
                &[("email", email), ("password", password), ("team", team)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert!(page.contains(message), "{email}: {}", page.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_account_and_per_address() {
    let web = TestWeb::start().await;
    let mut owner = web.client();
    owner
        .sign_up("target@example.com", PASSWORD, "Target")
        .await;

    let mut guesser = web.client();
    for n in 0..5 {
        let page = guesser
            .log_in("target@example.com", &format!("guess {n}xx"))
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "guess {n}");
        assert!(page.contains("wrong email or password"));
    }
    // The account is now locked for a while, even for the right password from anywhere.
    let page = guesser.log_in("target@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.contains("too many failed logins"));
    let mut elsewhere = web.client();
    let page = elsewhere.log_in("target@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);

    // One address trying many accounts is stopped too, after 4 × 5 failures. Every client here
    // is 127.0.0.1, which already has the guesser's five.
    let mut sprayer = web.client();
    for n in 5..20 {
        let page = sprayer
            .log_in(&format!("user{n}@example.com"), "wrong password")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let page = sprayer.log_in("someone-else@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_to_the_page_asked_for_but_never_to_another_site() {
    let web = TestWeb::start().await;
    let mut browser = web.client();
    browser.sign_up("nav@example.com", PASSWORD, "Nav").await;
    browser.post("/logout", &[]).await;

    let page = browser.get("/heartbeats?status=down").await;
    assert_eq!(
        page.location(),
        Some("/login?next=%2Fheartbeats%3Fstatus%3Ddown")
    );
    let form = browser.follow(&page).await;
    assert!(
        form.contains("value=\"/heartbeats?status=down\""),
        "{}",
        form.body
    );
    let page = browser
        .post(
            "/login",
            &[
                ("email", "nav@example.com"),
                ("password", PASSWORD),
                ("next", "/heartbeats?status=down"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/heartbeats?status=down"));

    browser.post("/logout", &[]).await;
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "nav@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/heartbeats"));
}
