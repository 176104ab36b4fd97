//! `TestWeb`: the dashboard and management API running in the test's process on its own
//! database and Redis prefix, and [`WebClient`], a browser without JavaScript: it keeps cookies,
//! does not follow redirects (tests look at them), and fills every form's `csrf_token` from the
//! last page it loaded, as a browser submitting that page's form would.

use std::net::SocketAddr;
use std::time::Duration;

use lifeline_notify::{DEFAULT_SMTP_FROM, NotifySettings};
use lifeline_web::WebSettings;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::chaos::free_port;
use crate::db::TestDb;

pub struct TestWeb {
    pub db: TestDb,
    pub web: Option<lifeline_web::Running>,
    pub settings: WebSettings,
    /// `http://127.0.0.1:PORT` of the dashboard.
    pub base: String,
}

/// The web settings of a test: a free port, a fixed secret, ping URLs under `ping_url`.
pub fn web_settings(ping_url: &str) -> WebSettings {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    WebSettings {
        addr,
        public_url: format!("http://{addr}"),
        ping_url: ping_url.trim_end_matches('/').to_owned(),
        session_secret: Some("test-secret-test-secret-test-secret!".to_owned()),
        session_ttl: Duration::from_secs(3600),
        login_max_failures: 5,
        login_window: Duration::from_secs(900),
        workers: Some(2),
        api_rate_limit: 600,
        // No billing service unless a test starts one (`TestApp::start_billing`).
        billing_url: "http://127.0.0.1:1".to_owned(),
    }
}

/// Notify settings for the dashboard's own emails, sent to `smtp_url` when given.
pub fn notify_settings(public_url: &str, smtp_url: Option<String>) -> NotifySettings {
    NotifySettings {
        smtp_url,
        smtp_from: DEFAULT_SMTP_FROM.into(),
        allow_private_targets: true,
        timeout: Duration::from_secs(2),
        public_url: public_url.to_owned(),
    }
}

/// Starts the dashboard. Its port was chosen free beforehand, since its public URL names it, so
/// another test (or any outgoing connection) may have taken it since: then it moves to a fresh
/// port, its public URL and the mail links with it, a few times before giving up. Returns the
/// settings it runs on.
pub async fn start_dashboard(
    mut settings: WebSettings,
    store: lifeline_store::StoreSettings,
    mut notify: NotifySettings,
) -> (lifeline_web::Running, WebSettings) {
    for _ in 0..5 {
        match lifeline_web::start(settings.clone(), store.clone(), notify.clone()).await {
            Err(lifeline_web::StartError::Bind { addr, source })
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                settings.addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
                let (was, now) = (
                    format!("http://{addr}"),
                    format!("http://{}", settings.addr),
                );
                for url in [&mut settings.public_url, &mut notify.public_url] {
                    if *url == was {
                        url.clone_from(&now);
                    }
                }
            }
            started => return (started.expect("the dashboard starts"), settings),
        }
    }
    panic!("the dashboard found no free port in five tries");
}

impl TestWeb {
    /// The dashboard on a fresh database, without SMTP.
    pub async fn start() -> TestWeb {
        Self::start_with(|s| s, None).await
    }

    /// The dashboard with settings changed by `adjust`, sending mail to `smtp_url`.
    pub async fn start_with(
        adjust: impl FnOnce(WebSettings) -> WebSettings,
        smtp_url: Option<String>,
    ) -> TestWeb {
        let db = TestDb::new().await;
        Self::start_on(db, adjust, smtp_url).await
    }

    /// The dashboard on an existing test database (e.g. one a `TestApp` also uses).
    pub async fn start_on(
        db: TestDb,
        adjust: impl FnOnce(WebSettings) -> WebSettings,
        smtp_url: Option<String>,
    ) -> TestWeb {
        let settings = adjust(web_settings("http://ping.invalid"));
        let notify = notify_settings(&settings.public_url, smtp_url);
        let (running, settings) = start_dashboard(settings, db.settings.clone(), notify).await;
        let base = format!("http://{}", running.addr);
        TestWeb {
            db,
            web: Some(running),
            settings,
            base,
        }
    }

    pub fn client(&self) -> WebClient {
        WebClient::new(&self.base)
    }

    pub async fn stop(mut self) {
        if let Some(web) = self.web.take() {
            web.stop().await.unwrap();
        }
    }
}

/// What a request answered.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden `csrf_token` field.
    pub fn csrf_token(&self) -> Option<String> {
        field_value(&self.body, "csrf_token")
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

/// The `value` of the first `<input name="NAME" value="…">` in `html` (attributes in that order,
/// as the templates write them).
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// A cookie-keeping HTTP client for the dashboard.
pub struct WebClient {
    pub http: reqwest::Client,
    pub base: String,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    csrf: Option<String>,
}

impl WebClient {
    pub fn new(base: &str) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.trim_end_matches('/').to_owned(),
            jar,
            csrf: None,
        }
    }

    /// The value of one of the dashboard's cookies, as this client holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }

    /// Sets a cookie as if the dashboard had set it (to present a forged or stolen one).
    pub fn set_cookie(&self, name: &str, value: &str) {
        let url: reqwest::Url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let page = Page {
            status,
            headers,
            body,
        };
        if let Some(token) = page.csrf_token() {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        self.read(response).await
    }

    /// Posts a form with the CSRF token of the last page loaded (loading `/login` first if no
    /// page was loaded yet).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        if self.csrf.is_none() {
            self.get("/login").await;
        }
        let token = self.csrf.clone().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// Posts exactly `fields` (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Follows a redirect answer with a GET, as a browser does after a form.
    pub async fn follow(&mut self, page: &Page) -> Page {
        let location = page
            .location()
            .unwrap_or_else(|| panic!("not a redirect: {} {}", page.status, page.body))
            .to_owned();
        self.get(&location).await
    }

    /// Signs up and checks that it worked (a redirect to the heartbeat list).
    pub async fn sign_up(&mut self, email: &str, password: &str, team: &str) -> Page {
        self.get("/signup").await;
        let page = self
            .post(
                "/signup",
                &[("email", email), ("password", password), ("team", team)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "sign-up: {}", page.body);
        self.follow(&page).await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/login").await;
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }
}
