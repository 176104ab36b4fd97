//! The heartbeat pages: the list, and (in their own modules) creating, editing and the detail
//! page.

mod chart;
mod detail;
mod list;
mod range;
mod rotate;
mod snippets;
pub(crate) mod view;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/heartbeats", list::page);
    // The detail page and its rotation last: static paths such as `/heartbeats/new` are
    // registered above, and win over `{id}`.
    r.get("/heartbeats/{id}", detail::page);
    r.get("/heartbeats/{id}/rotate", rotate::confirm);
    r.post("/heartbeats/{id}/rotate", rotate::rotate);
}
