use std::ffi::OsString;
use std::fmt::{self, Display};
use std::str::FromStr;
use std::time::Duration;

use crate::SettingError;

type Lookup = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// Where settings come from: a lookup from variable name to value. [`Source::process`] reads the
/// environment; [`Source::from_pairs`] holds fixed values, for tests.
///
/// Every reader trims the value and treats an empty or blank one as unset, so `NAME=` in a
/// service file means "the default", as it does for most tools.
pub struct Source {
    lookup: Box<Lookup>,
}

/// Values may be secrets (a database password in `DATABASE_URL`): they never print.
impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").finish_non_exhaustive()
    }
}

impl Source {
    /// The process environment: the one place in the project that reads it.
    pub fn process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var_os(name)),
        }
    }

    /// Only these values; every other variable is unset.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<OsString>,
    {
        let values: std::collections::HashMap<String, OsString> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            lookup: Box::new(move |name| values.get(name).cloned()),
        }
    }

    /// Nothing set: every reader returns its default.
    pub fn empty() -> Self {
        Self::from_pairs(std::iter::empty::<(String, OsString)>())
    }

    /// The trimmed value of `name`, `None` when unset, empty or blank.
    pub fn optional(&self, name: &'static str) -> Result<Option<String>, SettingError> {
        let Some(raw) = (self.lookup)(name) else {
            return Ok(None);
        };
        let value = raw
            .into_string()
            .map_err(|_| SettingError::new(name, "is not valid UTF-8"))?;
        let value = value.trim();
        Ok((!value.is_empty()).then(|| value.to_owned()))
    }

    /// The value of `name`, or `default`.
    pub fn string(&self, name: &'static str, default: &str) -> Result<String, SettingError> {
        Ok(self.optional(name)?.unwrap_or_else(|| default.to_owned()))
    }

    /// The value of `name` parsed as a `T`, `None` when unset.
    pub fn optional_parsed<T>(&self, name: &'static str) -> Result<Option<T>, SettingError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.optional(name)?
            .map(|v| {
                v.parse()
                    .map_err(|e| SettingError::new(name, format!("cannot parse {v:?}: {e}")))
            })
            .transpose()
    }

    /// The value of `name` parsed as a `T`, or `default`.
    pub fn parsed<T>(&self, name: &'static str, default: T) -> Result<T, SettingError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.optional_parsed(name)?.unwrap_or(default))
    }

    /// Like [`parsed`](Self::parsed), and no less than `min` (counts and sizes where zero would
    /// stall or divide by zero).
    pub fn at_least<T>(&self, name: &'static str, default: T, min: T) -> Result<T, SettingError>
    where
        T: FromStr + PartialOrd + Display,
        T::Err: Display,
    {
        let value = self.parsed(name, default)?;
        if value < min {
            return Err(SettingError::new(name, format!("must be at least {min}")));
        }
        Ok(value)
    }

    /// An on/off switch: `1`/`true` or `0`/`false`, in any case.
    pub fn flag(&self, name: &'static str, default: bool) -> Result<bool, SettingError> {
        let Some(value) = self.optional(name)? else {
            return Ok(default);
        };
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(SettingError::new(
                name,
                format!("{value:?} is not 1, true, 0 or false"),
            )),
        }
    }

    /// A duration given in milliseconds (the unit of every duration setting, so none needs a
    /// suffix to be read right).
    pub fn millis(&self, name: &'static str, default_ms: u64) -> Result<Duration, SettingError> {
        self.parsed(name, default_ms).map(Duration::from_millis)
    }

    /// A URL, or `default`, whose scheme is one of `schemes`. Only the scheme is checked here:
    /// the client that uses the URL knows its own rules and reports them when it connects.
    pub fn url(
        &self,
        name: &'static str,
        default: &str,
        schemes: &[&str],
    ) -> Result<String, SettingError> {
        let url = self.string(name, default)?;
        let ok = schemes
            .iter()
            .any(|s| url.starts_with(&format!("{s}://")) && url.len() > s.len() + 3);
        if !ok {
            return Err(SettingError::new(
                name,
                format!("{url:?} is not a {} URL", schemes.join(" or ")),
            ));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::SocketAddr;

    use super::*;

    const NAME: &str = "LIFELINE_TEST_SETTING";

    fn with(value: &str) -> Source {
        Source::from_pairs([(NAME, value)])
    }

    #[test]
    fn unset_empty_and_blank_values_take_the_default() {
        for source in [Source::empty(), with(""), with("  \t")] {
            assert_eq!(source.optional(NAME), Ok(None));
            assert_eq!(source.string(NAME, "d").unwrap(), "d");
            assert_eq!(source.parsed(NAME, 7u32), Ok(7));
            assert_eq!(source.flag(NAME, true), Ok(true));
            assert_eq!(source.millis(NAME, 250), Ok(Duration::from_millis(250)));
            assert_eq!(
                source.url(NAME, "redis://h", &["redis"]).unwrap(),
                "redis://h"
            );
        }
    }

    #[test]
    fn values_are_trimmed_and_parsed() {
        assert_eq!(with(" x ").string(NAME, "d").unwrap(), "x");
        assert_eq!(
            with("127.0.0.1:9").parsed(NAME, SocketAddr::from(([0, 0, 0, 0], 1))),
            Ok(SocketAddr::from(([127, 0, 0, 1], 9)))
        );
        assert_eq!(with(" 42 ").optional_parsed::<u16>(NAME), Ok(Some(42)));
        assert_eq!(with("3").at_least(NAME, 1usize, 1), Ok(3));
        assert_eq!(
            with("1500").millis(NAME, 1),
            Ok(Duration::from_millis(1_500))
        );
    }

    #[test]
    fn flags_are_one_true_zero_or_false_in_any_case() {
        for (value, want) in [
            ("1", true),
            ("TRUE", true),
            ("true", true),
            ("0", false),
            ("False", false),
        ] {
            assert_eq!(with(value).flag(NAME, !want), Ok(want), "{value}");
        }
        for value in ["yes", "2", "on"] {
            assert_eq!(with(value).flag(NAME, false).unwrap_err().name, NAME);
        }
    }

    #[test]
    fn urls_need_one_of_the_schemes_and_something_after_it() {
        let schemes = &["postgres", "postgresql"];
        assert!(with("postgresql://h/db").url(NAME, "", schemes).is_ok());
        for bad in ["mysql://x", "postgres://", "postgres:/x", "h/db"] {
            let err = with(bad).url(NAME, "", schemes).unwrap_err();
            assert_eq!(err.name, NAME, "{bad}");
        }
        // A default is checked like any value.
        assert!(Source::empty().url(NAME, "http://x", schemes).is_err());
    }

    #[test]
    fn a_wrong_value_is_an_error_naming_the_variable() {
        let errors = [
            with("lots").parsed(NAME, 1u32).unwrap_err(),
            with("-1").optional_parsed::<u64>(NAME).unwrap_err(),
            with("0").at_least(NAME, 5i64, 1).unwrap_err(),
            with("ten").millis(NAME, 1).unwrap_err(),
            with("maybe").flag(NAME, false).unwrap_err(),
            with("ftp://x").url(NAME, "", &["http"]).unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.name, NAME);
            assert!(
                err.to_string().starts_with(&format!("setting {NAME}: ")),
                "{err}"
            );
        }
        assert_eq!(
            with("0").at_least(NAME, 5i64, 1).unwrap_err().to_string(),
            format!("setting {NAME}: must be at least 1")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let source = Source::from_pairs([(NAME, OsString::from_vec(vec![0xff, b'x']))]);
        let err = source.parsed(NAME, 1u32).unwrap_err();
        assert_eq!(err, SettingError::new(NAME, "is not valid UTF-8"));
    }
}
