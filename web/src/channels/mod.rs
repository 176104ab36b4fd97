//! The channels pages.

use crate::routes::Routes;

pub fn routes(_r: &mut Routes<'_>) {}
