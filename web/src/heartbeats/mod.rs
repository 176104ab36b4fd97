//! The heartbeat pages: the list, and (in their own modules) creating, editing and the detail
//! page.

mod list;
pub(crate) mod view;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/heartbeats", list::page);
}
