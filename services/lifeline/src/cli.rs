use clap::{Args, Parser, Subcommand};
use lifeline_domain::{ChannelId, ChannelKind, HeartbeatId, Plan, TeamId};

/// Lifeline: heartbeat monitoring for cron jobs, workers and batch processes.
///
/// Configuration comes from environment variables (see the README, "Configuration").
#[derive(Parser, Debug)]
#[command(name = "lifeline", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply pending database migrations (or revert them all).
    Migrate {
        /// Revert every migration instead (drops all Lifeline tables and their data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Run the public ping API.
    Ingest,
    /// Run the scheduler: deadlines, incidents, alert delivery, retention purge.
    Scheduler,
    /// Run the team dashboard and the management API.
    Web,
    /// Run billing: the Stripe webhook, the dashboard's Checkout and portal sessions, and plan
    /// changes at the end of paid periods.
    Billing,
    /// Run every service in one process (single-node install).
    All,
    /// Create (or find) the demo team, user and heartbeat, and print its ping URL.
    Demo {
        #[command(flatten)]
        output: Output,
    },
    /// Operator commands for scripts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run the AI heartbeats' analyzer (trains each AI heartbeat's model on a schedule); with
    /// `replay`, evaluate the model offline instead.
    Analyzer {
        #[command(subcommand)]
        command: Option<AnalyzerCommand>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AnalyzerCommand {
    /// Offline evaluation: learn from TRAIN, walk through TEST as the live service would, and
    /// print one JSON line per alert it would have sent, when it would have sent it:
    /// `{"at", "kind": "early_warning" | "down", "expected_by", "reason"}`.
    Replay(ReplayArgs),
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// History to learn from: CSV with the header `received_at,kind,body_size` (RFC 3339 UTC;
    /// success, start or fail), in time order.
    #[arg(long, value_name = "TRAIN.csv")]
    pub train: std::path::PathBuf,
    /// History to walk through, after TRAIN, in the same format.
    #[arg(long, value_name = "TEST.csv")]
    pub test: std::path::PathBuf,
    /// The job's IANA time zone (its local time of day and weekday).
    #[arg(long, value_name = "IANA_TZ")]
    pub tz: chrono_tz::Tz,
    /// The heartbeat's configured interval, in seconds: the fallback and cap.
    #[arg(long, value_name = "SECONDS")]
    pub fallback_interval: i64,
    /// The heartbeat's configured grace, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub fallback_grace: i64,
    /// Stop walking at this instant (RFC 3339) instead of the last TEST row.
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The predictor: `combined` (the product), `linfa` (the Gaussian mixture alone) or `fixed`
    /// (no learning: plain interval + grace, the baseline).
    #[arg(long, value_enum, default_value = "combined")]
    pub model: ReplayModel,
    /// Also describe every training to stderr: when, on how many pings, and what was learned.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReplayModel {
    Combined,
    Linfa,
    Fixed,
}

impl Command {
    /// Commands whose output is meant for scripts log only warnings.
    pub fn is_quiet(&self) -> bool {
        matches!(
            self,
            Command::Admin(_)
                | Command::Demo { .. }
                | Command::Analyzer {
                    command: Some(AnalyzerCommand::Replay(_))
                }
        )
    }
}

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

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key for a team. Prints its `id` and the `key` itself, which is shown only once.
    Create {
        /// The team's id.
        #[arg(long)]
        team: TeamId,
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

/// How an admin command prints its result; every admin command takes it.
#[derive(Args, Debug, Clone, Copy)]
pub struct Output {
    /// Print one JSON object on stdout instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Create an alert channel in a team. Prints its id (and a webhook's signing secret).
    Create {
        /// The team's id.
        #[arg(long)]
        team: TeamId,
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
    /// Set a team's plan (the only way to Enterprise): limits, history retention and AI
    /// heartbeats follow at once; a change Stripe scheduled for the end of the paid period is
    /// dropped.
    #[command(name = "set-plan")]
    SetPlan {
        /// The team's id.
        id: TeamId,
        /// free, standard, premium or enterprise.
        #[arg(long)]
        plan: Plan,
        #[command(flatten)]
        output: Output,
    },
    /// Show a team: its plan and billing state, heartbeats and members.
    Show {
        /// The team's id.
        id: TeamId,
        #[command(flatten)]
        output: Output,
    },
    /// The same as `set-plan`, with the team as `--team` (kept for existing scripts).
    Plan {
        /// The team's id.
        #[arg(long)]
        team: TeamId,
        /// free, standard, premium or enterprise.
        #[arg(long)]
        plan: Plan,
        #[command(flatten)]
        output: Output,
    },
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
    /// Create a heartbeat in a team.
    Create {
        /// The team's id.
        #[arg(long)]
        team: TeamId,
        #[arg(long)]
        name: String,
        /// Expected seconds between pings.
        #[arg(long, default_value_t = 86_400)]
        interval: i64,
        /// Seconds of lateness tolerated before the heartbeat goes down.
        #[arg(long, default_value_t = 3_600)]
        grace: i64,
        /// Longest a run may take, in seconds, from its start ping (optional).
        #[arg(long)]
        max_runtime: Option<i64>,
        /// Longest a run may go without a progress ping, in seconds (optional).
        #[arg(long)]
        progress_timeout: Option<i64>,
        /// A channel (of the same team) that gets the alerts; repeatable.
        #[arg(long = "channel")]
        channels: Vec<ChannelId>,
        #[command(flatten)]
        output: Output,
    },
    /// Send the heartbeat's alerts to one more channel.
    Attach {
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
