//! `lifeline analyzer replay`: reads the two histories, replays them, prints the alerts.

use std::io::Write;

use anyhow::Context;
use lifeline_analyzer::replay::{Predictor, Replay, read_history};
use lifeline_cadence::Strategy;
use lifeline_domain::Schedule;

use crate::cli::{ReplayArgs, ReplayModel};

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let fixed = Schedule::from_secs(args.fallback_interval, args.fallback_grace)
        .context("--fallback-interval / --fallback-grace")?;
    let read = |path: &std::path::Path| -> anyhow::Result<_> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("{name}: cannot open"))?;
        Ok(read_history(&name, std::io::BufReader::new(file))?)
    };
    let (train, test) = (read(&args.train)?, read(&args.test)?);
    if let (Some(last), Some(first)) = (train.last(), test.first())
        && first.at < last.at
    {
        anyhow::bail!(
            "TEST must start after TRAIN ends ({} < {})",
            first.at,
            last.at
        );
    }
    let replay = Replay {
        tz: args.tz,
        fixed,
        until: args.until,
        verbose: args.verbose,
        predictor: match args.model {
            ReplayModel::Combined => Predictor::Learned(Strategy::Combined),
            ReplayModel::Linfa => Predictor::Learned(Strategy::Linfa),
            ReplayModel::Fixed => Predictor::Fixed,
        },
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for alert in replay.run(&train, &test) {
        serde_json::to_writer(&mut out, &alert)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
