use clap::{Args, Parser, Subcommand};

mod admin;
mod values;

pub use admin::{
    AdminCommand, ApiKeyCommand, ChannelCommand, ChannelRef, Confirm, HeartbeatCommand,
    HeartbeatEdit, HeartbeatRef, Output, TeamCommand, TeamItems,
};
pub use values::{TeamRef, seconds};

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
    /// Wrap a job (a crontab line): ping `/start`, run COMMAND with its output passed through,
    /// then ping `/{exit code}` with the output's last kilobyte. Exits with COMMAND's status.
    #[command(override_usage = "lifeline run --url <PING_URL> -- <COMMAND>...")]
    Run(RunArgs),
}

/// `lifeline run --url PING_URL -- COMMAND…`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The heartbeat's ping URL, as the dashboard shows it (`https://…/api/v1/hb/TOKEN`).
    #[arg(long, value_name = "PING_URL", value_parser = crate::run::parse_ping_url)]
    pub url: reqwest::Url,
    /// The command and its arguments, after `--`; run directly, not through a shell.
    #[arg(
        value_name = "COMMAND",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<std::ffi::OsString>,
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
    /// The heartbeat's configured interval (the fallback and cap): 1h, 1d, or plain seconds.
    #[arg(long, value_name = "DURATION", value_parser = seconds, allow_hyphen_values = true)]
    pub fallback_interval: i64,
    /// The heartbeat's configured grace: 30m, 1h, or plain seconds.
    #[arg(long, value_name = "DURATION", value_parser = seconds, allow_hyphen_values = true)]
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
