//! `/heartbeats/{id}`: one heartbeat with its ping URL and snippets to use it, its time zone,
//! the timeline chart over a chosen range, the ping log a page at a time, its incidents and
//! status changes, and the periods when Lifeline itself could not receive pings; its AI mode
//! panel (`ai_panel`), and the notice when Lifeline turned AI mode off (`ai_notice`). Nothing
//! older than the plan's history shows: every store query used here applies the retention
//! cut-off.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use lifeline_domain::duration::{human, human_rounded};
use lifeline_domain::{HeartbeatMode, IncidentKind, Status};
use lifeline_store::ai;
use lifeline_store::coverage::Outage;
use lifeline_store::heartbeats::{self, StatusChangeEntry};
use lifeline_store::history::{self, OverviewQuery, PingCursor, TimelineQuery};
use lifeline_store::incidents::Incident;
use lifeline_store::pings::Ping;
use lifeline_store::teams;
use serde::Deserialize;

use super::ai_notice::AiOffBanner;
use super::ai_panel::{self, AiPanel};
use super::chart::{self, Chart, kind_label, utc};
use super::range::{self, Range};
use super::snippets::Snippets;
use super::view::{HeartbeatView, iso, status_label};
use crate::error::{PageError, path_id};
use crate::links::query;
use crate::page::{Nav, render};
use crate::session::Member;
use crate::state::AppState;

/// Pings per page of the log.
pub const LOG_PAGE: i64 = 50;
/// Up to this many pings in a range are drawn one mark each; beyond, they are counted per bucket.
pub const RAW_MARKS: i64 = 600;
const LISTED: i64 = 20;

#[derive(Deserialize)]
pub struct DetailQuery {
    range: Option<String>,
    before: Option<String>,
}

pub struct RangeLink {
    pub key: &'static str,
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct PingView {
    pub id: i64,
    pub at: String,
    pub at_text: String,
    pub kind: &'static str,
    pub kind_label: String,
    pub method: String,
    pub remote_addr: String,
    pub user_agent: String,
    pub body_size: String,
    pub duration: String,
    pub detail: String,
}

pub struct IncidentView {
    pub kind: &'static str,
    pub reason: String,
    pub opened_at: String,
    pub opened: String,
    pub resolved: String,
    pub lasted: String,
    pub open: bool,
}

pub struct StatusView {
    pub from: &'static str,
    pub from_label: &'static str,
    pub to: &'static str,
    pub to_label: &'static str,
    pub reason: String,
    pub at: String,
    pub at_text: String,
}

pub struct OutageView {
    pub started: String,
    pub ended: String,
    pub lasted: String,
    pub shifted: i64,
}

#[derive(Template)]
#[template(path = "heartbeats/detail.html")]
struct DetailPage {
    nav: Nav,
    hb: HeartbeatView,
    description: String,
    /// The zone its local times are in, and whether that is the team's (it has none of its own).
    time_zone: String,
    time_zone_is_teams: bool,
    paused: bool,
    ping_url: String,
    never_pinged: bool,
    snippets: Snippets,
    ranges: Vec<RangeLink>,
    range_label: &'static str,
    clamped: Option<String>,
    retention_days: u32,
    chart: Chart,
    log: Vec<PingView>,
    /// Paging through the log: the newest page's link when not on it, the older page's link.
    newest_href: Option<String>,
    older_href: Option<String>,
    incidents: Vec<IncidentView>,
    statuses: Vec<StatusView>,
    outages: Vec<OutageView>,
    ai: AiPanel,
    ai_off: Option<AiOffBanner>,
    /// Its flapping spell, while it lasts: its changes are not announced meanwhile.
    flapping: Option<IncidentView>,
}

/// What the page reads for `range` ending `now` (`scripts/bench/web` asks the same through
/// `bench_history`: keep the two in step).
pub fn overview_query(
    range: Range,
    before: Option<PingCursor>,
    gap_after: chrono::Duration,
    now: DateTime<Utc>,
) -> OverviewQuery {
    OverviewQuery {
        timeline: TimelineQuery {
            from: now - range.duration(),
            to: now,
            raw_limit: RAW_MARKS,
            bucket: range.bucket(),
            gap_after,
        },
        before,
        log_limit: LOG_PAGE,
        listed: LISTED,
    }
}

pub async fn page(
    member: Member,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<DetailQuery>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path)?;
    let retention_days = member.scope.plan().limits().retention_days;
    let chosen = range::choose(params.range.as_deref(), retention_days)?;
    let before: Option<PingCursor> = params
        .before
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|e: history::BadCursor| PageError::Invalid(e.to_string()))
        })
        .transpose()?;
    let mut conn = state.conn().await?;
    let hb = heartbeats::find(&mut conn, &member.scope, id).await?;
    let now = Utc::now();
    let schedule = hb.schedule();
    let gap_after = schedule.interval() + schedule.grace();
    let loaded = history::overview(
        &mut conn,
        &member.scope,
        hb.id,
        overview_query(chosen.range, before, gap_after, now),
    )
    .await?;
    let time_zone = match hb.time_zone {
        Some(own) => own,
        None => teams::time_zone(&mut conn, &member.scope).await?,
    };
    let (from, to) = (loaded.timeline.from, loaded.timeline.to);
    let ai = ai_panel::load(&mut conn, &member.scope, &hb, time_zone, from, to, now).await?;
    let ai_off = match hb.mode {
        HeartbeatMode::Fixed => ai::off_notice(&mut conn, &member.scope, hb.id)
            .await?
            .map(|notice| AiOffBanner::for_heartbeat(&notice, member.scope.plan())),
        HeartbeatMode::Ai => None,
    };
    drop(conn);

    let mut chart = chart::build(
        chosen.range,
        &loaded.timeline,
        &loaded.chart_incidents,
        &loaded.chart_outages,
        gap_after,
    );
    chart.expected = chart::expected_bands(&loaded.timeline, &ai.windows);
    let base = format!("/heartbeats/{id}");
    let with = |range: Range, before: Option<&PingCursor>| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if range != Range::DEFAULT {
            pairs.push(("range", range.key().to_owned()));
        }
        if let Some(c) = before {
            pairs.push(("before", c.to_string()));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if pairs.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", query(&pairs))
        }
    };
    let ranges = Range::offered(retention_days)
        .into_iter()
        .map(|r| RangeLink {
            key: r.key(),
            label: r.label(),
            href: format!("{}#timeline", with(r, None)),
            current: r == chosen.range,
        })
        .collect();
    let ping_url = hb.ping_url(&state.settings.ping_url);
    render(&DetailPage {
        nav: Nav::member(&member, "heartbeats"),
        hb: HeartbeatView::of(&hb, now),
        description: hb.description.clone(),
        time_zone: time_zone.to_string(),
        time_zone_is_teams: hb.time_zone.is_none(),
        paused: hb.timing.status == Status::Paused,
        // Pings the plan no longer shows still count: such a heartbeat did ping.
        never_pinged: hb.timing.last_ping_at.is_none() && loaded.log.is_empty(),
        snippets: Snippets::for_url(&ping_url),
        ping_url,
        ranges,
        range_label: chosen.range.label(),
        clamped: chosen.clamped,
        retention_days,
        chart,
        log: loaded.log.iter().map(ping_view).collect(),
        newest_href: before.map(|_| format!("{}#log", with(chosen.range, None))),
        older_href: loaded
            .older
            .map(|c| format!("{}#log", with(chosen.range, Some(&c)))),
        incidents: loaded
            .incidents
            .iter()
            .map(|i| incident_view(i, now))
            .collect(),
        statuses: loaded.statuses.iter().map(status_view).collect(),
        outages: loaded.outages.iter().map(outage_view).collect(),
        ai: ai.panel,
        ai_off,
        flapping: loaded
            .incidents
            .iter()
            .find(|i| i.kind == IncidentKind::Flapping && i.resolved_at.is_none())
            .map(|i| incident_view(i, now)),
    })
}

/// "1.5 kB".
pub(crate) fn bytes(n: i64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} kB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
    }
}

fn ping_view(p: &Ping) -> PingView {
    let mut kind_text = kind_label(p.kind).to_owned();
    if let Some(code) = p.exit_code {
        kind_text.push_str(&format!(" (exit {code})"));
    }
    PingView {
        id: p.id,
        at: iso(Some(p.received_at)),
        at_text: utc(p.received_at),
        kind: p.kind.as_str(),
        kind_label: kind_text,
        method: p.method.clone(),
        remote_addr: p.remote_addr.clone().unwrap_or_default(),
        user_agent: p.user_agent.clone().unwrap_or_default(),
        body_size: bytes(p.body_size),
        duration: p
            .duration_ms
            .map(|ms| human_rounded(chrono::Duration::milliseconds(ms)))
            .unwrap_or_default(),
        detail: p.detail.clone().unwrap_or_default(),
    }
}

fn incident_view(i: &Incident, now: DateTime<Utc>) -> IncidentView {
    IncidentView {
        kind: i.kind.title(),
        reason: i.reason.clone(),
        opened_at: iso(Some(i.opened_at)),
        opened: utc(i.opened_at),
        resolved: i
            .resolved_at
            .map(utc)
            .unwrap_or_else(|| "still open".to_owned()),
        lasted: human_rounded(i.resolved_at.unwrap_or(now) - i.opened_at),
        open: i.resolved_at.is_none(),
    }
}

fn status_view(s: &StatusChangeEntry) -> StatusView {
    StatusView {
        from: s.from_status.as_str(),
        from_label: status_label(s.from_status),
        to: s.to_status.as_str(),
        to_label: status_label(s.to_status),
        reason: s.reason.clone(),
        at: iso(Some(s.changed_at)),
        at_text: utc(s.changed_at),
    }
}

fn outage_view(o: &Outage) -> OutageView {
    OutageView {
        started: utc(o.started_at),
        ended: utc(o.ended_at),
        lasted: human(o.ended_at - o.started_at),
        shifted: o.shifted_heartbeats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 kB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MB");
    }
}
