//! Label columns (`status`, `kind`, `mode`, `plan`, `role`) hold the domain's words, and
//! `time_zone` columns IANA names. Reading one back goes through the domain's type, so a word
//! this code does not know fails loudly, naming it, instead of falling back to some default.

use lifeline_domain::{Label, TimeZoneName};

use crate::StoreError;

/// The enum a stored word stands for.
pub(crate) fn stored<T: Label>(word: &str) -> Result<T, StoreError> {
    T::parse_label(word).map_err(|e| StoreError::Invalid(format!("in storage: {e}")))
}

/// The time zone a `time_zone` column names. A name the compiled tz database does not know (the
/// binary is older than the row) fails loudly too, instead of silently becoming UTC.
pub(crate) fn stored_time_zone(name: &str) -> Result<TimeZoneName, StoreError> {
    TimeZoneName::parse(name).map_err(|e| StoreError::Invalid(format!("in storage: {e}")))
}
