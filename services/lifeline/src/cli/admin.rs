//! `lifeline admin …` as clap parses it: the operator's commands for teams, heartbeats, channels
//! and API keys. What each one does is in `crate::admin`; the values they take (a team by id or
//! name, durations in human units) are in `super::values`.

use clap::{ArgGroup, Args, Subcommand};
use lifeline_domain::{ChannelId, ChannelKind, HeartbeatId, Plan, TimeZoneName};

use super::values::{TeamRef, seconds};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Heartbeats.
    #[command(subcommand)]
    Heartbeat(HeartbeatCommand),
    /// Alert channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Team API keys for the management API (`/api/v1/` on the web address).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
}

/// How an admin command prints its result; every admin command takes it.
#[derive(Args, Debug, Clone, Copy)]
pub struct Output {
    /// Print one JSON object on stdout instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

/// The confirmation a deletion needs; without it the command only says what it would delete.
#[derive(Args, Debug, Clone, Copy)]
pub struct Confirm {
    /// Really delete. Without it nothing is deleted: the command says what would go.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Create a team.
    Create {
        #[arg(long)]
        name: String,
        /// free, standard, premium or enterprise.
        #[arg(long, default_value = "free")]
        plan: Plan,
        #[command(flatten)]
        output: Output,
    },
    /// Every team, oldest first, with its plan and how many heartbeats and members it has.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show a team: its plan and billing state, time zone, heartbeats and members.
    Show {
        /// The team's id or exact name.
        #[arg(value_name = "TEAM")]
        team: TeamRef,
        #[command(flatten)]
        output: Output,
    },
    /// Rename a team or set its time zone (the zone of its heartbeats that have none of their
    /// own).
    #[command(group(ArgGroup::new("change").required(true).multiple(true)))]
    Edit {
        /// The team's id or exact name.
        #[arg(value_name = "TEAM")]
        team: TeamRef,
        /// The new name.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// An IANA time zone, such as Europe/Paris.
        #[arg(long, value_name = "IANA_TZ", group = "change")]
        time_zone: Option<TimeZoneName>,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a team and everything in it: heartbeats (their ping URLs stop working), history,
    /// channels, API keys, memberships. Needs --yes.
    Delete {
        /// The team's id or exact name.
        #[arg(value_name = "TEAM")]
        team: TeamRef,
        #[command(flatten)]
        confirm: Confirm,
        #[command(flatten)]
        output: Output,
    },
    /// Set a team's plan (the only way to Enterprise): limits, history retention and AI
    /// heartbeats follow at once; a change Stripe scheduled for the end of the paid period is
    /// dropped.
    #[command(name = "set-plan")]
    SetPlan {
        /// The team's id or exact name.
        #[arg(value_name = "TEAM")]
        team: TeamRef,
        /// free, standard, premium or enterprise.
        #[arg(long)]
        plan: Plan,
        #[command(flatten)]
        output: Output,
    },
    /// The same as `set-plan`, with the team as `--team` (kept for existing scripts).
    Plan {
        /// The team's id or exact name.
        #[arg(long)]
        team: TeamRef,
        /// free, standard, premium or enterprise.
        #[arg(long)]
        plan: Plan,
        #[command(flatten)]
        output: Output,
    },
}

/// What a team has of something (its heartbeats, its channels).
#[derive(Args, Debug)]
pub struct TeamItems {
    /// The team's id or exact name.
    #[arg(long)]
    pub team: TeamRef,
    #[command(flatten)]
    pub output: Output,
}

/// One existing heartbeat.
#[derive(Args, Debug)]
pub struct HeartbeatRef {
    /// The heartbeat's id.
    pub id: HeartbeatId,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Subcommand, Debug)]
pub enum HeartbeatCommand {
    /// Create a heartbeat in a team. Prints its id and ping URL.
    Create {
        /// The team's id or exact name.
        #[arg(long)]
        team: TeamRef,
        #[arg(long)]
        name: String,
        /// Expected time between pings: 5m, 1h 30m, 1d, or plain seconds.
        #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = seconds, allow_hyphen_values = true)]
        interval: i64,
        /// Lateness tolerated before the heartbeat goes down: 30m, 1h, or plain seconds.
        #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = seconds, allow_hyphen_values = true)]
        grace: i64,
        /// Longest a run may take from its start ping (optional): 2h, or plain seconds.
        #[arg(long, value_name = "DURATION", value_parser = seconds, allow_hyphen_values = true)]
        max_runtime: Option<i64>,
        /// Longest a run may go without a progress ping (optional): 10m, or plain seconds.
        #[arg(long, value_name = "DURATION", value_parser = seconds, allow_hyphen_values = true)]
        progress_timeout: Option<i64>,
        /// A channel (of the same team) that gets the alerts; repeatable.
        #[arg(long = "channel")]
        channels: Vec<ChannelId>,
        #[command(flatten)]
        output: Output,
    },
    /// A team's heartbeats, by name, with status, schedule and last ping.
    List(TeamItems),
    /// A heartbeat's settings: schedule, run limits, time zone, ping URL, channels, status.
    Show(HeartbeatRef),
    /// Change a heartbeat's name, description, schedule, run limits or time zone; what is not
    /// given stays as it is. A new schedule moves its deadlines at once.
    Edit(HeartbeatEdit),
    /// Delete a heartbeat and its history; its ping URL stops working at once. Needs --yes.
    Delete {
        #[command(flatten)]
        heartbeat: HeartbeatRef,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Send the heartbeat's alerts to one more channel.
    Attach {
        #[command(flatten)]
        heartbeat: HeartbeatRef,
        /// The channel's id (same team).
        #[arg(long)]
        channel: ChannelId,
    },
    /// Stop sending the heartbeat's alerts to a channel (the inverse of attach).
    Detach {
        #[command(flatten)]
        heartbeat: HeartbeatRef,
        /// The channel's id (same team).
        #[arg(long)]
        channel: ChannelId,
    },
    /// Give the heartbeat a new ping URL; the old one stops working at once.
    Rotate(HeartbeatRef),
    /// Stop monitoring until the next ping or resume.
    Pause(HeartbeatRef),
    /// Resume monitoring.
    Resume(HeartbeatRef),
    /// Status, last ping, deadlines, stored ping count, open incident and last alert.
    Stats(HeartbeatRef),
}

/// `heartbeat edit`: every option is a change, and at least one is needed.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)))]
pub struct HeartbeatEdit {
    #[command(flatten)]
    pub heartbeat: HeartbeatRef,
    /// The new name.
    #[arg(long, group = "change")]
    pub name: Option<String>,
    /// What the job is, for whoever reads the alert ("" clears it).
    #[arg(long, group = "change")]
    pub description: Option<String>,
    /// Expected time between pings: 5m, 1h 30m, 1d, or plain seconds.
    #[arg(long, value_name = "DURATION", group = "change", value_parser = seconds, allow_hyphen_values = true)]
    pub interval: Option<i64>,
    /// Lateness tolerated before the heartbeat goes down: 30m, 1h, or plain seconds.
    #[arg(long, value_name = "DURATION", group = "change", value_parser = seconds, allow_hyphen_values = true)]
    pub grace: Option<i64>,
    /// Longest a run may take from its start ping: 2h, or plain seconds.
    #[arg(long, value_name = "DURATION", group = "change", value_parser = seconds, allow_hyphen_values = true)]
    pub max_runtime: Option<i64>,
    /// Remove the limit on a run's length.
    #[arg(long, group = "change", conflicts_with = "max_runtime")]
    pub no_max_runtime: bool,
    /// Longest a run may go without a progress ping: 10m, or plain seconds.
    #[arg(long, value_name = "DURATION", group = "change", value_parser = seconds, allow_hyphen_values = true)]
    pub progress_timeout: Option<i64>,
    /// Remove the limit on the time between progress pings.
    #[arg(long, group = "change", conflicts_with = "progress_timeout")]
    pub no_progress_timeout: bool,
    /// Its own IANA time zone, such as Europe/Paris.
    #[arg(long, value_name = "IANA_TZ", group = "change")]
    pub time_zone: Option<TimeZoneName>,
    /// Follow the team's time zone again instead of its own.
    #[arg(long, group = "change", conflicts_with = "time_zone")]
    pub team_time_zone: bool,
}

/// One existing channel.
#[derive(Args, Debug)]
pub struct ChannelRef {
    /// The channel's id.
    pub id: ChannelId,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Create an alert channel in a team. Prints its id (and a webhook's signing secret).
    Create {
        /// The team's id or exact name.
        #[arg(long)]
        team: TeamRef,
        /// email, webhook or slack.
        #[arg(long)]
        kind: ChannelKind,
        /// An email address, or the webhook / Slack incoming-webhook URL.
        #[arg(long)]
        target: String,
        /// A label for people; defaults to the target.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// A team's channels, oldest first, with how many heartbeats each serves and its newest
    /// delivery.
    List(TeamItems),
    /// A channel: kind, target, whether it is confirmed, its heartbeats, its newest delivery.
    Show(ChannelRef),
    /// Rename a channel or point it somewhere else (an email address the operator gives is
    /// confirmed at once, as at creation).
    #[command(group(ArgGroup::new("change").required(true).multiple(true)))]
    Edit {
        #[command(flatten)]
        channel: ChannelRef,
        /// A label for people.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// The new email address, or webhook / Slack incoming-webhook URL (same kind).
        #[arg(long, group = "change")]
        target: Option<String>,
    },
    /// Delete a channel: its heartbeats stop alerting it, its delivery history goes. Needs
    /// --yes.
    Delete {
        #[command(flatten)]
        channel: ChannelRef,
        #[command(flatten)]
        confirm: Confirm,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key for a team. Prints its `id` and the `key` itself, which is shown only once.
    Create {
        /// The team's id or exact name.
        #[arg(long)]
        team: TeamRef,
        /// A label that says where the key is used.
        #[arg(long, default_value = "operator")]
        name: String,
        /// The key may only read (a read-write key manages heartbeats and channels).
        #[arg(long)]
        read_only: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Revoke a key: its next call is answered 401.
    Revoke {
        /// The key's id (as printed by `create`).
        id: uuid::Uuid,
        #[command(flatten)]
        output: Output,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a command's definition only when it is used: check them all at once.
    #[test]
    fn every_command_is_well_formed() {
        crate::cli::Cli::command().debug_assert();
    }
}
