use clap::{Args, Parser, Subcommand};

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
    /// Run every service in one process (single-node install).
    All,
    /// Create (or find) the demo team, user and heartbeat, and print its ping URL.
    Demo {
        #[arg(long)]
        json: bool,
    },
    /// Operator commands for scripts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

impl Command {
    /// Commands whose output is meant for scripts log only warnings.
    pub fn is_quiet(&self) -> bool {
        matches!(self, Command::Admin(_) | Command::Demo { .. })
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
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Create a team.
    Create {
        #[arg(long)]
        name: String,
        /// free, standard, premium or enterprise.
        #[arg(long, default_value = "free")]
        plan: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct HeartbeatRef {
    /// The heartbeat's id.
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum HeartbeatCommand {
    /// Create a heartbeat in a team.
    Create {
        /// The team's id.
        #[arg(long)]
        team: String,
        #[arg(long)]
        name: String,
        /// Expected seconds between pings.
        #[arg(long, default_value_t = 86_400)]
        interval: i64,
        /// Seconds of lateness tolerated before the heartbeat goes down.
        #[arg(long, default_value_t = 3_600)]
        grace: i64,
        #[arg(long)]
        json: bool,
    },
    /// Give the heartbeat a new ping URL; the old one stops working at once.
    Rotate(HeartbeatRef),
    /// Stop monitoring until the next ping or resume.
    Pause(HeartbeatRef),
    /// Resume monitoring.
    Resume(HeartbeatRef),
    /// Status, last ping, deadlines and stored ping count.
    Stats(HeartbeatRef),
}
