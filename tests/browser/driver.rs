//! Headless Chromium driven over WebDriver: Debian's `chromium` and `chromium-driver`
//! (`deploy/test.sh` installs them when missing). Each test gets its own chromedriver on a free
//! port and a fresh profile directory; screenshots go to `target/browser/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use lifeline_testkit::{free_port, wait_until};
use tokio::process::{Child, Command};

pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: TempDir,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn binary(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let path = PathBuf::from(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    panic!(
        "{name} is missing: install Debian's chromium and chromium-driver \
         (`sudo apt-get install chromium chromium-driver`; ./deploy/test.sh does it)"
    );
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = binary("chromium");
        let port = free_port();
        let driver = Command::new(binary("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        assert!(
            wait_until(Duration::from_secs(20), async || {
                http.get(format!("{url}/status")).send().await.is_ok()
            })
            .await,
            "chromedriver never answered"
        );
        let profile =
            std::env::temp_dir().join(format!("lifeline-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&profile).unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            _driver: driver,
            _profile: TempDir(profile),
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The element, once the page has it (pages load after a click or a form; waiting here
    /// keeps the steps from racing the navigation).
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("{css} on {}: {e}", self.path().await),
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.element(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.element(css).await.attr(name).await.unwrap()
    }

    pub async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.unwrap()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until the browser is on a page whose path satisfies `want` (after a click that
    /// submits a form), and returns the path.
    pub async fn arrive(&self, want: impl Fn(&str) -> bool) -> String {
        let reached = wait_until(Duration::from_secs(10), async || want(&self.path().await)).await;
        let path = self.path().await;
        assert!(reached, "still on {path}");
        path
    }

    /// Fills and submits the sign-up form of the page the browser is on, and waits for the
    /// heartbeat list it leads to.
    pub async fn sign_up(&self, email: &str, password: &str, team: &str) {
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", password).await;
        self.fill("input[name=team]", team).await;
        self.click("form[action='/signup'] button[type=submit]")
            .await;
        self.arrive(|p| p == "/heartbeats").await;
    }

    /// Fills the new-heartbeat form (from the list's link) in human units, without submitting.
    pub async fn fill_new_heartbeat(&self, name: &str, interval: &str, grace: &str) {
        self.click("a[href='/heartbeats/new']").await;
        self.fill("input[name=name]", name).await;
        self.fill("input[name=interval]", interval).await;
        self.fill("input[name=grace]", grace).await;
    }

    /// Submits the new-heartbeat form and returns the path of the heartbeat's page.
    pub async fn create_heartbeat(&self) -> String {
        self.click("form[action='/heartbeats/new'] button[type=submit]")
            .await;
        self.arrive(|p| p.starts_with("/heartbeats/") && p != "/heartbeats/new")
            .await
    }

    /// The whole URL the browser is on.
    pub async fn client_url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves a PNG of the page as `target/browser/{name}.png` and checks it is a real picture.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: an empty screenshot"
        );
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
