//! `admin heartbeat stats`: how a heartbeat is doing. The text form says as much as the JSON:
//! the open incident, and the last alert with its last error, are what an operator looks for.

use lifeline_store::heartbeats::{self, Heartbeat};
use lifeline_store::incidents::{AlertSummary, Incident};
use lifeline_store::{PgConn, incidents, pings};
use serde_json::json;

use super::heartbeat::describe;
use super::{scopes, time, time_or_never};
use crate::Settings;
use crate::cli::HeartbeatRef;

pub(super) async fn run(
    settings: &Settings,
    conn: &mut PgConn,
    target: HeartbeatRef,
) -> anyhow::Result<()> {
    let id = target.id;
    let scope = scopes::heartbeat(conn, id).await?;
    let hb = heartbeats::find(conn, &scope, id).await?;
    let stored = pings::count(conn, &scope, id).await?;
    let open = incidents::open_for(conn, &scope, id).await?;
    let flapping = incidents::flapping_for(conn, &scope, id).await?;
    let last_alert = incidents::last_alert(conn, &scope, id).await?;
    let mut out = describe(settings, &hb);
    out["pings_stored"] = json!(stored);
    out["retention_days"] = json!(scope.plan().limits().retention_days);
    out["open_incident"] = json!(open);
    out["flapping"] = json!(flapping);
    out["last_alert"] = json!(last_alert);
    out["channels"] = json!(heartbeats::channel_ids(conn, &scope, id).await?);
    target.output.print(&out, || {
        text(
            &hb,
            stored,
            open.as_ref(),
            flapping.as_ref(),
            last_alert.as_ref(),
        )
    });
    Ok(())
}

fn text(
    hb: &Heartbeat,
    stored: i64,
    open: Option<&Incident>,
    flapping: Option<&Incident>,
    last_alert: Option<&AlertSummary>,
) -> String {
    let mut text = format!(
        "{} ({}): {}, last ping {}, {stored} pings stored",
        hb.name,
        hb.id,
        hb.timing.status,
        time_or_never(hb.timing.last_ping_at)
    );
    match open {
        Some(incident) => text.push_str(&format!(
            "\nopen incident: {} since {}: {}",
            incident.kind,
            time(incident.opened_at),
            incident.reason
        )),
        None => text.push_str("\nopen incident: none"),
    }
    if let Some(spell) = flapping {
        text.push_str(&format!(
            "\nflapping since {}: {}",
            time(spell.opened_at),
            spell.reason
        ));
    }
    let Some(alert) = last_alert else {
        text.push_str("\nlast alert: none");
        return text;
    };
    text.push_str(&format!(
        "\nlast alert: {} to channel {}, queued {}, {} after {} attempt(s)",
        alert.kind,
        alert.channel_id,
        time(alert.created_at),
        alert.status,
        alert.attempts
    ));
    if let Some(sent) = alert.sent_at {
        text.push_str(&format!(", sent {}", time(sent)));
    }
    if let Some(error) = &alert.last_error {
        text.push_str(&format!("\nlast error: {error}"));
    }
    text
}
