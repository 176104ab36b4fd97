use clap::Parser;
use lifeline::cli::{AnalyzerCommand, Cli, Command};
use lifeline::{Roles, Settings};
use lifeline_ops::logs::{self, LogSettings};
use lifeline_settings::Source;

/// mimalloc rather than glibc's allocator: see the workspace manifest for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Offline and self-contained: needs no configuration, database or logs.
    if let Command::Analyzer {
        command: Some(AnalyzerCommand::Replay(args)),
    } = &cli.command
    {
        return match lifeline::replay::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lifeline analyzer replay: {e:#}");
                std::process::ExitCode::from(2)
            }
        };
    }
    // The cron wrapper runs on machines that have only the binary: it talks HTTP to the ping
    // URL and nothing else, and its exit status is the wrapped command's.
    if let Command::Run(args) = &cli.command {
        return lifeline::run::run(args).await;
    }
    // The only read of the process environment; everything below gets its settings from here.
    let env = Source::process();
    logs::init(&LogSettings::from_source(&env), cli.command.is_quiet());
    let settings = match Settings::from_source(&env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lifeline: invalid configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Migrate { revert_all } => lifeline::migrate(&settings, revert_all).await,
        Command::Ingest => {
            let roles = Roles {
                ingest: true,
                ..Roles::NONE
            };
            lifeline::serve(settings, roles).await
        }
        Command::Scheduler => {
            let roles = Roles {
                scheduler: true,
                ..Roles::NONE
            };
            lifeline::serve(settings, roles).await
        }
        Command::Web => {
            let roles = Roles {
                web: true,
                ..Roles::NONE
            };
            lifeline::serve(settings, roles).await
        }
        Command::Billing => {
            let roles = Roles {
                billing: true,
                ..Roles::NONE
            };
            lifeline::serve(settings, roles).await
        }
        Command::All => lifeline::serve(settings, Roles::ALL).await,
        Command::Demo { output } => lifeline::demo::run(&settings, output).await,
        Command::Admin(cmd) => lifeline::admin::run(&settings, cmd).await,
        Command::Analyzer { command: None } => {
            let roles = Roles {
                analyzer: true,
                ..Roles::NONE
            };
            lifeline::serve(settings, roles).await
        }
        Command::Analyzer {
            command: Some(AnalyzerCommand::Replay(_)),
        }
        | Command::Run(_) => Ok(()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<lifeline::admin::Usage>().is_some() => {
            eprintln!("lifeline: {e}");
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("lifeline: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
