//! Label columns (`status`, `kind`, `mode`, `plan`, `role`) hold the domain's words. Reading one
//! back goes through the domain's enum, so a word this code does not know fails loudly, naming
//! it, instead of falling back to some default.

use lifeline_domain::Label;

use crate::StoreError;

/// The enum a stored word stands for.
pub(crate) fn stored<T: Label>(word: &str) -> Result<T, StoreError> {
    T::parse_label(word).map_err(|e| StoreError::Invalid(format!("in storage: {e}")))
}
