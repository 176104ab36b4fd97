//! The `lifeline` binary as a process, set up for one test's database and Redis prefix: one-off
//! commands (`admin …`, `migrate`, `demo`) and long-running roles, started and waited on until
//! ready, then killed or stopped.
//!
//! The binary's path comes from the test crate (`env!("CARGO_BIN_EXE_lifeline")` exists only in
//! the root package's tests).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use lifeline_store::StoreSettings;
use tokio::process::{Child, Command};

use crate::chaos::free_port;
use crate::wait::wait_until;

/// How long a role may take to migrate and answer `/readyz`.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long a stopped process may take to finish its work in flight.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// How to run `lifeline` against a test's engines.
#[derive(Clone, Debug)]
pub struct Lifeline {
    bin: PathBuf,
    envs: Vec<(String, String)>,
}

/// A long-running role of the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Ingest,
    Scheduler,
    /// The dashboard and management API (`lifeline web`).
    Web,
    /// The AI heartbeats' analyzer (`lifeline analyzer`).
    Analyzer,
    /// Billing: the Stripe webhook and plan changes (`lifeline billing`).
    Billing,
    /// Every service in one process (`lifeline all`).
    All,
}

impl Role {
    fn command(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Scheduler => "scheduler",
            Role::Web => "web",
            Role::Analyzer => "analyzer",
            Role::Billing => "billing",
            Role::All => "all",
        }
    }

    fn web(self) -> bool {
        matches!(self, Role::Web | Role::All)
    }

    fn ingest(self) -> bool {
        matches!(self, Role::Ingest | Role::All)
    }

    fn scheduler(self) -> bool {
        matches!(self, Role::Scheduler | Role::All)
    }

    fn analyzer(self) -> bool {
        matches!(self, Role::Analyzer | Role::All)
    }

    fn billing(self) -> bool {
        matches!(self, Role::Billing | Role::All)
    }
}

impl Lifeline {
    /// `bin` on the engines of `store`, logging warnings only. The test process's own
    /// `LIFELINE_*` variables are not passed on, so a developer's environment cannot change
    /// what a test sees.
    pub fn new(bin: impl Into<PathBuf>, store: &StoreSettings) -> Self {
        Self {
            bin: bin.into(),
            envs: Vec::new(),
        }
        .env("DATABASE_URL", &store.database_url)
        .env("REDIS_URL", &store.redis_url)
        .env("LIFELINE_REDIS_PREFIX", &store.redis_prefix)
        .env("LIFELINE_BEACON_MS", store.beacon_every.as_millis())
        .env("LIFELINE_BLIND_AFTER_MS", store.blind_after.as_millis())
        .env("LIFELINE_LOG", "warn")
    }

    /// Sets (or replaces) an environment variable of every process made from this.
    pub fn env(mut self, name: &str, value: impl ToString) -> Self {
        self.envs.retain(|(n, _)| n != name);
        self.envs.push((name.to_owned(), value.to_string()));
        self
    }

    /// A command for the binary with this environment; the process is killed if the handle is
    /// dropped.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("LIFELINE_") {
                cmd.env_remove(name);
            }
        }
        cmd.envs(self.envs.iter().map(|(n, v)| (n, v)))
            .kill_on_drop(true);
        cmd
    }

    /// Runs `lifeline ARGS…` to its end.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()))
    }

    /// Starts a role on free ports and waits until every server it runs answers `/readyz`.
    pub async fn start(&self, role: Role) -> Process {
        let ingest = role
            .ingest()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let ingest_ops = role
            .ingest()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let ops = role
            .scheduler()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let web = role
            .web()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let analyzer = role
            .analyzer()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let billing = role
            .billing()
            .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
        let mut cmd = self.command();
        cmd.arg(role.command()).stdout(Stdio::null());
        if let Some(addr) = web {
            cmd.env("LIFELINE_WEB_ADDR", addr.to_string());
        }
        if let Some(addr) = ingest {
            cmd.env("LIFELINE_INGEST_ADDR", addr.to_string());
        }
        if let Some(addr) = ingest_ops {
            cmd.env("LIFELINE_INGEST_OPS_ADDR", addr.to_string());
        }
        if let Some(addr) = ops {
            cmd.env("LIFELINE_SCHEDULER_ADDR", addr.to_string());
        }
        if let Some(addr) = analyzer {
            cmd.env("LIFELINE_ANALYZER_ADDR", addr.to_string());
        }
        if let Some(addr) = billing {
            cmd.env("LIFELINE_BILLING_ADDR", addr.to_string());
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        let process = Process {
            child,
            role,
            ingest,
            ingest_ops,
            ops,
            web,
            analyzer,
            billing,
        };
        let http = reqwest::Client::new();
        // The ping address answers `/healthz` only; readiness is on the ops addresses.
        for addr in [ingest_ops, ops, web, analyzer, billing]
            .into_iter()
            .flatten()
        {
            let url = format!("http://{addr}/readyz");
            let ready = wait_until(START_LIMIT, async || {
                http.get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            })
            .await;
            assert!(ready, "lifeline {} never answered {url}", role.command());
        }
        process
    }
}

/// A running `lifeline` role. Dropping it kills the process.
pub struct Process {
    child: Child,
    pub role: Role,
    /// The ping API's address, for `Ingest` and `All`.
    pub ingest: Option<SocketAddr>,
    /// Ingest's ops endpoints, for `Ingest` and `All`.
    pub ingest_ops: Option<SocketAddr>,
    /// The scheduler's ops endpoints, for `Scheduler` and `All`.
    pub ops: Option<SocketAddr>,
    /// The dashboard's address, for `Web` and `All`.
    pub web: Option<SocketAddr>,
    /// The analyzer's ops endpoints, for `Analyzer` and `All`.
    pub analyzer: Option<SocketAddr>,
    /// Billing's address (webhook, internal API, ops endpoints), for `Billing` and `All`.
    pub billing: Option<SocketAddr>,
}

impl Process {
    /// `http://ADDR` of the ping API.
    pub fn base(&self) -> String {
        let addr = self.ingest.expect("this role runs no ping API");
        format!("http://{addr}")
    }

    /// `http://ADDR` of the dashboard.
    pub fn web_base(&self) -> String {
        let addr = self.web.expect("this role runs no dashboard");
        format!("http://{addr}")
    }

    /// `http://ADDR` of billing.
    pub fn billing_base(&self) -> String {
        let addr = self.billing.expect("this role runs no billing");
        format!("http://{addr}")
    }

    /// `http://ADDR` of the scheduler's ops endpoints.
    pub fn ops_base(&self) -> String {
        let addr = self.ops.expect("this role runs no scheduler");
        format!("http://{addr}")
    }

    /// Kills the process at once (SIGKILL): nothing in flight is finished or recorded.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// Asks the process to stop (SIGTERM), as an orchestrator would, and waits until it has.
    pub async fn stop(mut self) -> ExitStatus {
        let pid = self.child.id().expect("the process is still running");
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(STOP_LIMIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("lifeline {} did not stop", self.role.command()))
            .unwrap()
    }
}
