//! `lifeline run --url PING_URL -- COMMAND…`, the wrapper for crontab lines, as a process
//! against the real ping API: the pings it stores, the output it passes through, and the exit
//! status it keeps.

use std::process::{ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use lifeline_domain::PingKind;
use lifeline_store::TeamScope;
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::pings::{self, Ping};
use lifeline_testkit::{TestApp, free_port};
use tokio::io::AsyncBufReadExt;

/// `lifeline run --url URL -- COMMAND…` with only `PATH` in its environment: the wrapper must
/// work on a machine with the binary and no configuration.
fn wrapper(url: &str, command: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lifeline"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["run", "--url", url, "--"])
        .args(command)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

async fn wrap(url: &str, command: &[&str]) -> Output {
    wrapper(url, command).output().await.unwrap()
}

/// The heartbeat's pings, oldest first.
async fn stored(app: &TestApp, scope: &TeamScope, hb: &Heartbeat) -> Vec<Ping> {
    let mut pings = pings::recent(&mut app.conn().await, scope, hb.id, 100)
        .await
        .unwrap();
    pings.reverse();
    pings
}

fn kinds(pings: &[Ping]) -> Vec<(PingKind, Option<i16>)> {
    pings.iter().map(|p| (p.kind, p.exit_code)).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn signal_of(status: ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_pings_start_then_its_exit_code_with_the_last_kilobyte() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;

    let out = wrap(&app.url(&hb), &["sh", "-c", "seq 1 2000; exit 3"]).await;

    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let printed: String = (1..=2000).map(|n| format!("{n}\n")).collect();
    assert_eq!(text(&out.stdout), printed, "stdout passed through whole");
    assert_eq!(text(&out.stderr), "", "nothing of the wrapper's own");
    let pings = stored(&app, &scope, &hb).await;
    assert_eq!(
        kinds(&pings),
        [(PingKind::Start, None), (PingKind::Fail, Some(3))]
    );
    let end = &pings[1];
    assert_eq!(end.body_size, 1024);
    assert_eq!(
        end.detail.as_deref(),
        Some(&printed[printed.len() - 1024..]),
        "the output's last kilobyte"
    );
    assert!(end.duration_ms.is_some(), "the start opened the run");
    assert_eq!(pings[0].detail, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_run_sends_stdout_and_stderr_as_its_detail() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;

    let script = "echo 'warning: disk 91% full' >&2; sleep 0.2; echo 'backup done'";
    let out = wrap(&app.url(&hb), &["sh", "-c", script]).await;

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "backup done\n");
    assert_eq!(text(&out.stderr), "warning: disk 91% full\n");
    let pings = stored(&app, &scope, &hb).await;
    assert_eq!(
        kinds(&pings),
        [(PingKind::Start, None), (PingKind::Success, Some(0))]
    );
    let detail = pings[1].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("warning: disk 91% full\n"), "{detail:?}");
    assert!(detail.contains("backup done\n"), "{detail:?}");
    assert_eq!(detail.len(), 35);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_is_passed_through_as_it_comes() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;

    let began = Instant::now();
    let mut child = wrapper(
        &app.url(&hb),
        &["sh", "-c", "echo first; sleep 3; echo second"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap();
    let first_after = began.elapsed();
    assert_eq!(first.as_deref(), Some("first"));
    assert!(
        first_after < Duration::from_secs(2),
        "the first line came only after {first_after:?}, with the end"
    );
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("second"));
    assert!(child.wait().await.unwrap().success());
    assert_eq!(
        kinds(&stored(&app, &scope, &hb).await),
        [(PingKind::Start, None), (PingKind::Success, Some(0))]
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_killed_by_a_signal_exits_128_plus_the_signal() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;

    let out = wrap(&app.url(&hb), &["sh", "-c", "echo going; kill -TERM $$"]).await;

    // As shells report it: the wrapper itself exits normally, with 128 + SIGTERM (15).
    assert_eq!(out.status.code(), Some(143), "{}", text(&out.stderr));
    assert_eq!(signal_of(out.status), None);
    assert_eq!(text(&out.stdout), "going\n");
    let pings = stored(&app, &scope, &hb).await;
    assert_eq!(
        kinds(&pings),
        [(PingKind::Start, None), (PingKind::Fail, Some(143))]
    );
    assert_eq!(pings[1].detail.as_deref(), Some("going\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_run_exits_127_and_pings_a_failure() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;

    let out = wrap(&app.url(&hb), &["lifeline-no-such-command", "--flag"]).await;

    assert_eq!(out.status.code(), Some(127));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot run \"lifeline-no-such-command\""),
        "{stderr}"
    );
    let pings = stored(&app, &scope, &hb).await;
    assert_eq!(
        kinds(&pings),
        [(PingKind::Start, None), (PingKind::Fail, Some(127))]
    );
    let detail = pings[1].detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("cannot run \"lifeline-no-such-command\""),
        "{detail:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_api_that_never_answers_leaves_the_exit_status_alone() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    // The heartbeat's URL on a port where nothing listens.
    let nowhere = hb.ping_url(&format!("http://127.0.0.1:{}", free_port()));

    let began = Instant::now();
    let out = wrap(&nowhere, &["sh", "-c", "echo still ran; exit 3"]).await;

    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "still ran\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ping \"start\" failed after 4 attempts"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ping \"3\" failed after 4 attempts"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&hb.token.to_string()),
        "the secret token is not printed: {stderr}"
    );
    // Retried with backoff (0.5 + 1 + 2 s per ping), not given up at once.
    assert!(
        began.elapsed() >= Duration::from_secs(7),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(stored(&app, &scope, &hb).await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ping_url_is_reported_at_once() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let unknown = format!("{}/api/v1/hb/not-a-token", app.base);

    let began = Instant::now();
    let out = wrap(&unknown, &["sh", "-c", "exit 0"]).await;

    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ping \"start\" refused: 404"), "{stderr}");
    assert!(stderr.contains("ping \"0\" refused: 404"), "{stderr}");
    assert!(began.elapsed() < Duration::from_secs(3), "not retried");
    assert_eq!(stored(&app, &scope, &hb).await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_url_or_no_command_is_a_usage_error() {
    let out = wrap("hb.example.com/api/v1/hb/x", &["true"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--url"), "{}", text(&out.stderr));

    let out = wrapper("https://hb.example.com/api/v1/hb/x", &[])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("COMMAND"),
        "{}",
        text(&out.stderr)
    );
}
