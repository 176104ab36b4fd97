use crate::labels::label_enum;

label_enum! {
    /// What a ping says about the job. Stored in `pings.kind`.
    pub enum PingKind as "ping kind" {
        /// The job finished well (plain ping, or exit code 0).
        Success => "success",
        /// The job started a run; the next success or failure measures its duration.
        Start => "start",
        /// The job failed (`/fail` or a non-zero exit code): the heartbeat goes down at once.
        Fail => "fail",
        /// A long run is still making progress.
        Progress => "progress",
    }
}

impl PingKind {
    /// Success and failure end a run and set the heartbeat's status; start and progress do not.
    pub fn ends_run(self) -> bool {
        matches!(self, PingKind::Success | PingKind::Fail)
    }
}

/// How much of a ping's body is kept as its detail (shown in history) when the ping says how a
/// run goes or ended; `pings.detail` holds no more. `lifeline run` sends the end of the job's
/// output in this much.
pub const DETAIL_BYTES: usize = 1024;

/// The signal of a ping URL: the part after the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    pub kind: PingKind,
    /// The job's exit status when the URL carried one (`…/{token}/{exit_code}`).
    pub exit_code: Option<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown ping signal {0:?}: expected start, fail, progress or an exit code 0-255")]
pub struct UnknownSignal(pub String);

impl Signal {
    pub const SUCCESS: Signal = Signal {
        kind: PingKind::Success,
        exit_code: None,
    };

    /// Parses the path segment after the token: `start`, `fail`, `progress` or an exit code
    /// `0`–`255` written in plain decimal (0 is success, anything else a failure).
    pub fn parse(segment: &str) -> Result<Self, UnknownSignal> {
        let kind = match segment {
            "start" => Some(PingKind::Start),
            "fail" => Some(PingKind::Fail),
            "progress" => Some(PingKind::Progress),
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok(Signal {
                kind,
                exit_code: None,
            });
        }
        let plain_decimal = !segment.is_empty()
            && segment.len() <= 3
            && segment.bytes().all(|b| b.is_ascii_digit())
            && (segment == "0" || !segment.starts_with('0'));
        match segment.parse::<u8>() {
            Ok(code) if plain_decimal => Ok(Signal {
                kind: if code == 0 {
                    PingKind::Success
                } else {
                    PingKind::Fail
                },
                exit_code: Some(code),
            }),
            _ => Err(UnknownSignal(segment.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_signals_parse() {
        assert_eq!(Signal::parse("start").map(|s| s.kind), Ok(PingKind::Start));
        assert_eq!(Signal::parse("fail").map(|s| s.kind), Ok(PingKind::Fail));
        assert_eq!(
            Signal::parse("progress").map(|s| s.kind),
            Ok(PingKind::Progress)
        );
    }

    #[test]
    fn exit_code_zero_is_success_and_others_fail() {
        assert_eq!(
            Signal::parse("0"),
            Ok(Signal {
                kind: PingKind::Success,
                exit_code: Some(0)
            })
        );
        assert_eq!(
            Signal::parse("1"),
            Ok(Signal {
                kind: PingKind::Fail,
                exit_code: Some(1)
            })
        );
        assert_eq!(Signal::parse("255").map(|s| s.exit_code), Ok(Some(255)));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "", "256", "-1", "+1", "01", "1.0", "1e2", "Start", "FAIL", "999999", " 1", "success",
        ] {
            assert!(Signal::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
