//! `lifeline demo`: a team, a user and a heartbeat to try Lifeline with. Idempotent: running it
//! again prints the same heartbeat. The demo user gets a fresh random password on every run
//! (printed with the dashboard's address), so no well-known password ever opens a dashboard.

use lifeline_domain::{Email, HeartbeatName, Plan, Role, Schedule, TeamName};
use lifeline_store::heartbeats::NewHeartbeat;
use lifeline_store::{TeamScope, accounts, heartbeats, teams, users};
use serde_json::json;

use crate::Settings;
use crate::admin::{announce_token, connect};
use crate::cli::Output;

const TEAM: &str = "Demo team";
const USER: &str = "demo@lifeline.local";
const HEARTBEAT: &str = "demo-job";

pub async fn run(settings: &Settings, output: Output) -> anyhow::Result<()> {
    let mut conn = connect(settings).await?;
    let team = match teams::find_by_name(&mut conn, TEAM).await? {
        Some(team) => team,
        None => teams::create(&mut conn, &TeamName::parse(TEAM)?, Plan::Premium).await?,
    };
    let user = users::find_or_create(&mut conn, &Email::parse(USER)?, "Demo user").await?;
    users::add_membership(&mut conn, team.id, user, Role::Owner).await?;
    let password = demo_password();
    accounts::set_password(&mut conn, user, &lifeline_auth::password::hash(&password)?).await?;
    let scope = TeamScope::for_operator(&mut conn, team.id).await?;
    let existing = heartbeats::list(&mut conn, &scope)
        .await?
        .into_iter()
        .find(|hb| hb.name == HEARTBEAT);
    let hb = match existing {
        Some(hb) => hb,
        None => {
            let new = NewHeartbeat::new(
                HeartbeatName::parse(HEARTBEAT)?,
                Schedule::from_secs(60, 30)?,
            );
            let hb = heartbeats::create(&mut conn, &scope, new).await?;
            announce_token(settings, &hb).await?;
            hb
        }
    };
    let url = hb.ping_url(&settings.web.ping_url);
    let dashboard = format!("{}/login", settings.web.public_url);
    if output.json {
        println!(
            "{}",
            json!({
                "team_id": team.id,
                "user": USER,
                "password": password,
                "dashboard_url": dashboard,
                "heartbeat_id": hb.id,
                "ping_url": url,
            })
        );
    } else {
        println!("Demo heartbeat \"{HEARTBEAT}\" (team \"{TEAM}\"):");
        println!("  id:        {}", hb.id);
        println!("  ping URL:  {url}");
        println!("  ping it:   curl -fsS -X POST {url}");
        println!("  it expects a ping every 60 s (grace 30 s).");
        println!(
            "  manage it: lifeline admin heartbeat show|edit|stats {}",
            hb.id
        );
        println!("Dashboard:   {dashboard}");
        println!("  log in as  {USER}");
        println!("  password   {password}   (new on every run of `lifeline demo`)");
    }
    Ok(())
}

/// Four groups of random letters and digits, easy to type from a terminal.
fn demo_password() -> String {
    let token = lifeline_auth::secret::token().replace(['-', '_'], "x");
    token.as_bytes()[..16]
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}
