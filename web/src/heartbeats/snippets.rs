//! Ready-to-paste code that pings a heartbeat, with its URL filled in: the common patterns of
//! the product text (success only, success and failure apart, Python).

/// `curl` options for a ping: fail on HTTP errors, quiet but for errors, give up after 10 s, and
/// retry a few times so a network blip does not page anyone.
const CURL: &str = "curl -fsS -m 10 --retry 5";

#[derive(Clone, Debug)]
pub struct Snippets {
    /// The one-liner: ping when the job is done.
    pub curl: String,
    /// The same at the end of a crontab line, only when the job succeeded.
    pub cron: String,
    /// `/start` before the run, then the plain URL on success or `/fail` on failure.
    pub signals: String,
    /// The job's exit status sent as is (`/0` is success, anything else a failure).
    pub exit_code: String,
    /// Python with the standard library only.
    pub python: String,
}

impl Snippets {
    pub fn for_url(url: &str) -> Self {
        Snippets {
            curl: format!("{CURL} {url}"),
            cron: format!("*/5 * * * * /path/to/job.sh && {CURL} {url}"),
            signals: format!(
                "{CURL} {url}/start\n\
                 if /path/to/job.sh; then\n\
                 \x20 {CURL} {url}\n\
                 else\n\
                 \x20 {CURL} {url}/fail\n\
                 fi"
            ),
            exit_code: format!("{CURL} {url}/start\n/path/to/job.sh\n{CURL} {url}/$?"),
            python: format!(
                "import urllib.request\n\
                 \n\
                 PING_URL = \"{url}\"\n\
                 \n\
                 def ping(signal=\"\"):\n\
                 \x20   try:\n\
                 \x20       urllib.request.urlopen(PING_URL + signal, timeout=10)\n\
                 \x20   except OSError as e:\n\
                 \x20       print(\"heartbeat ping failed:\", e)  # never fail the job over a ping\n\
                 \n\
                 ping(\"/start\")\n\
                 try:\n\
                 \x20   run_my_job()\n\
                 except Exception:\n\
                 \x20   ping(\"/fail\")\n\
                 \x20   raise\n\
                 ping()"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_carry_the_url_and_its_signals() {
        let s = Snippets::for_url("https://hb.example.com/api/v1/hb/TOKEN");
        assert_eq!(
            s.curl,
            "curl -fsS -m 10 --retry 5 https://hb.example.com/api/v1/hb/TOKEN"
        );
        assert!(
            s.signals
                .contains("/api/v1/hb/TOKEN/start\nif /path/to/job.sh; then\n  curl")
        );
        assert!(s.signals.contains("TOKEN/fail\nfi"));
        assert!(s.exit_code.ends_with("TOKEN/$?"));
        assert!(
            s.python
                .contains("PING_URL = \"https://hb.example.com/api/v1/hb/TOKEN\"")
        );
        assert!(s.python.contains("\n    raise\n"));
    }
}
