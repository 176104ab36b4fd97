//! The heartbeat form, shared by `/heartbeats/new` and `/heartbeats/{id}/edit`: the fields as the
//! user typed them, their checks (durations in human units, an IANA time zone), and the page
//! that shows them again with a message beside each field that needs fixing.

use askama::Template;
use lifeline_domain::duration::{self, human};
use lifeline_domain::{
    ChannelId, HeartbeatDescription, HeartbeatName, RunLimits, Schedule, TimeZoneName,
};
use lifeline_store::channels::{self, Channel};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::{PgConn, StoreError, TeamScope, teams};

use crate::form::{PostedForm, capitalized};
use crate::page::Nav;

const CHANNEL_GONE: &str = "Channels: one of the chosen channels no longer exists; choose again";

/// The form's fields as text, exactly as they are shown (and sent back).
#[derive(Clone, Debug, Default)]
pub struct HeartbeatForm {
    pub name: String,
    pub interval: String,
    pub grace: String,
    pub max_runtime: String,
    pub progress_timeout: String,
    pub description: String,
    /// An IANA name; empty follows the team's zone.
    pub time_zone: String,
    /// The ids of the checked channels.
    pub channels: Vec<String>,
}

/// A form that passed every check.
#[derive(Clone, Debug)]
pub struct Checked {
    pub name: HeartbeatName,
    pub schedule: Schedule,
    pub limits: RunLimits,
    pub description: String,
    /// `None`: the team's zone.
    pub time_zone: Option<TimeZoneName>,
    pub channels: Vec<ChannelId>,
}

/// What the form offers from the team: the channels a heartbeat may alert, and the zone a
/// heartbeat without one of its own is in.
pub struct TeamChoices {
    pub channels: Vec<Channel>,
    pub time_zone: TimeZoneName,
}

impl TeamChoices {
    pub async fn load(conn: &mut PgConn, scope: &TeamScope) -> Result<Self, StoreError> {
        Ok(TeamChoices {
            channels: channels::list(conn, scope).await?,
            time_zone: teams::time_zone(conn, scope).await?,
        })
    }
}

/// What is wrong with which field; shown beside the field and listed on top.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, message: impl ToString) {
        self.0.push((field, message.to_string()));
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// A chosen channel was deleted while the form was open.
    pub fn channel_gone() -> Self {
        let mut errors = FieldErrors::default();
        errors.add("channels", CHANNEL_GONE);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn messages(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, m)| m.as_str())
    }
}

impl HeartbeatForm {
    /// A new heartbeat's form: daily, with an hour of grace.
    pub fn defaults() -> Self {
        HeartbeatForm {
            interval: "1d".to_owned(),
            grace: "1h".to_owned(),
            ..HeartbeatForm::default()
        }
    }

    /// The form prefilled with a heartbeat's current settings.
    pub fn of(hb: &Heartbeat, channels: &[ChannelId]) -> Self {
        let schedule = hb.schedule();
        let limits = hb.timing.limits;
        HeartbeatForm {
            name: hb.name.clone(),
            interval: human(schedule.interval()),
            grace: human(schedule.grace()),
            max_runtime: limits.max_runtime().map(human).unwrap_or_default(),
            progress_timeout: limits.progress_timeout().map(human).unwrap_or_default(),
            description: hb.description.clone(),
            time_zone: hb.time_zone.map(|z| z.to_string()).unwrap_or_default(),
            channels: channels.iter().map(ToString::to_string).collect(),
        }
    }

    pub fn posted(form: &PostedForm) -> Self {
        HeartbeatForm {
            name: form.text("name").to_owned(),
            interval: form.text("interval").to_owned(),
            grace: form.text("grace").to_owned(),
            max_runtime: form.text("max_runtime").to_owned(),
            progress_timeout: form.text("progress_timeout").to_owned(),
            description: form.text("description").to_owned(),
            time_zone: form.text("time_zone").to_owned(),
            channels: form
                .all("channels")
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Checks every field, so that one answer lists everything to fix. `team_channels` are the
    /// channels the team has: a heartbeat can only alert through those.
    pub fn check(&self, team_channels: &[Channel]) -> Result<Checked, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = HeartbeatName::parse(&self.name)
            .map_err(|e| errors.add("name", format!("Name: {e}")))
            .ok();
        let interval = required(&self.interval, "interval", "Interval", &mut errors);
        let grace = required(&self.grace, "grace", "Grace", &mut errors);
        let schedule = match (interval, grace) {
            (Some(interval), Some(grace)) => match Schedule::from_secs(interval, grace) {
                Ok(s) => Some(s),
                Err(e) => {
                    let field = match e {
                        lifeline_domain::ScheduleError::Grace(_) => "grace",
                        _ => "interval",
                    };
                    errors.add(field, capitalized(&e.to_string()));
                    None
                }
            },
            _ => None,
        };
        let max_runtime = optional(&self.max_runtime, "max_runtime", "Maximum run time");
        let progress_timeout = optional(
            &self.progress_timeout,
            "progress_timeout",
            "Progress timeout",
        );
        let limits = match (max_runtime, progress_timeout) {
            (Ok(max_runtime), Ok(progress_timeout)) => {
                match RunLimits::from_secs(max_runtime, progress_timeout) {
                    Ok(limits) => Some(limits),
                    Err(e) => {
                        let field = match e {
                            lifeline_domain::RunLimitsError::MaxRuntime(_) => "max_runtime",
                            lifeline_domain::RunLimitsError::ProgressTimeout(_) => {
                                "progress_timeout"
                            }
                        };
                        errors.add(field, capitalized(&e.to_string()));
                        None
                    }
                }
            }
            (max_runtime, progress_timeout) => {
                for (field, message) in [max_runtime.err(), progress_timeout.err()]
                    .into_iter()
                    .flatten()
                {
                    errors.add(field, message);
                }
                None
            }
        };
        let description = HeartbeatDescription::parse(&self.description)
            .map_err(|e| errors.add("description", format!("Description: {e}")))
            .ok();
        let time_zone = match self.time_zone.trim() {
            "" => None,
            typed => TimeZoneName::parse(typed)
                .map_err(|e| errors.add("time_zone", crate::time_zones::refused(&e)))
                .ok(),
        };
        let mut channels = Vec::new();
        for id in &self.channels {
            match team_channels.iter().find(|c| c.id.to_string() == *id) {
                Some(c) => channels.push(c.id),
                None => {
                    errors.add("channels", CHANNEL_GONE);
                    break;
                }
            }
        }
        match (name, schedule, limits, description) {
            (Some(name), Some(schedule), Some(limits), Some(description)) if errors.is_empty() => {
                Ok(Checked {
                    name,
                    schedule,
                    limits,
                    description: description.into_string(),
                    time_zone,
                    channels,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A duration field that must be filled in, in whole seconds.
fn required(text: &str, field: &'static str, label: &str, errors: &mut FieldErrors) -> Option<i64> {
    match duration::parse(text) {
        Ok(d) => Some(d.num_seconds()),
        Err(e) => {
            errors.add(field, format!("{label}: {e}"));
            None
        }
    }
}

/// A duration field that may be left blank (no limit).
fn optional(
    text: &str,
    field: &'static str,
    label: &str,
) -> Result<Option<i64>, (&'static str, String)> {
    if text.is_empty() {
        return Ok(None);
    }
    duration::parse(text)
        .map(|d| Some(d.num_seconds()))
        .map_err(|e| (field, format!("{label}: {e}")))
}

/// One checkbox of the channel list.
#[derive(Clone, Debug)]
pub struct ChannelChoice {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub checked: bool,
}

pub fn channel_choices(team_channels: &[Channel], form: &HeartbeatForm) -> Vec<ChannelChoice> {
    team_channels
        .iter()
        .map(|c| {
            let id = c.id.to_string();
            ChannelChoice {
                checked: form.channels.contains(&id),
                id,
                name: c.name.clone(),
                kind: c.kind.as_str(),
                target: c.target.clone(),
            }
        })
        .collect()
}

/// The form page, for a new heartbeat or an edit.
#[derive(Template)]
#[template(path = "heartbeats/form.html")]
pub struct FormPage {
    pub nav: Nav,
    /// The page's heading.
    pub title: String,
    /// Where the form posts.
    pub action: String,
    pub submit: &'static str,
    /// Where "Cancel" goes.
    pub cancel: String,
    pub values: HeartbeatForm,
    /// The team's zone, which an empty time zone follows.
    pub team_time_zone: TimeZoneName,
    /// The names the time zone field suggests.
    pub time_zones: &'static [&'static str],
    pub channels: Vec<ChannelChoice>,
    pub errors: FieldErrors,
    /// The plan's heartbeat limit is reached: the store's message, which names the plan.
    pub plan_limit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(fields: &[(&str, &str)]) -> HeartbeatForm {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        HeartbeatForm::posted(&PostedForm::parse(body.as_bytes()))
    }

    #[test]
    fn human_durations_become_a_schedule_and_limits() {
        let form = posted(&[
            ("name", " nightly backup "),
            ("interval", "5m"),
            ("grace", "1h 30m"),
            ("max_runtime", "2h"),
            ("progress_timeout", ""),
            ("time_zone", " Europe/Paris "),
        ]);
        let checked = form.check(&[]).unwrap();
        assert_eq!(checked.time_zone.map(|z| z.as_str()), Some("Europe/Paris"));
        assert_eq!(checked.name.as_str(), "nightly backup");
        assert_eq!(checked.schedule.interval_secs(), 300);
        assert_eq!(checked.schedule.grace_secs(), 5_400);
        assert_eq!(
            checked.limits.max_runtime(),
            Some(chrono::Duration::hours(2))
        );
        assert_eq!(checked.limits.progress_timeout(), None);
    }

    #[test]
    fn a_blank_time_zone_follows_the_team() {
        let form = posted(&[
            ("name", "a"),
            ("interval", "1h"),
            ("grace", "0"),
            ("time_zone", "  "),
        ]);
        assert_eq!(form.check(&[]).unwrap().time_zone, None);
    }

    #[test]
    fn every_wrong_field_is_reported_beside_it() {
        let form = posted(&[
            ("name", ""),
            ("interval", "5x"),
            ("grace", "-1h"),
            ("max_runtime", "0s"),
            ("progress_timeout", "soon"),
            ("time_zone", "Europe/Pariss"),
            ("channels", "not-a-channel"),
        ]);
        let errors = form.check(&[]).unwrap_err();
        assert!(errors.get("name").is_some());
        assert_eq!(
            errors.get("interval"),
            Some("Interval: \"5x\" is not a duration: use units like 90s, 5m, 1h 30m, 2d")
        );
        assert!(errors.get("grace").unwrap().contains("negative"));
        assert!(errors.get("progress_timeout").unwrap().contains("\"soon\""));
        assert!(errors.get("channels").is_some());
        assert_eq!(
            errors.get("time_zone"),
            Some("Unknown time zone \"Europe/Pariss\": use an IANA name such as Europe/Paris")
        );
        assert_eq!(errors.messages().count(), 6);

        let zero = posted(&[("name", "a"), ("interval", "0s"), ("grace", "0")]);
        let errors = zero.check(&[]).unwrap_err();
        assert!(
            errors
                .get("interval")
                .unwrap()
                .starts_with("Interval must be"),
            "{errors:?}"
        );
        let limits = posted(&[
            ("name", "a"),
            ("interval", "1h"),
            ("grace", "0"),
            ("max_runtime", "0s"),
        ]);
        assert!(limits.check(&[]).unwrap_err().get("max_runtime").is_some());
    }
}
