//! The channels pages: where a team's alerts go (email, webhook, Slack). The list, creating,
//! editing and deleting a channel, its page (attached heartbeats, recent deliveries, a test
//! button), and the page an email address confirms on.

mod confirm;
mod delete;
mod detail;
mod edit;
mod list;
mod new;
mod view;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/channels", list::page);
    r.get("/channels/new", new::form);
    r.post("/channels/new", new::submit);
    // Before `/channels/{id}/…`: the link mailed to an address (no login: its secret is the
    // credential).
    r.get("/channels/confirm/{token}", confirm::page);
    r.post("/channels/confirm/{token}", confirm::submit);
    r.get("/channels/{id}", detail::page);
    r.post("/channels/{id}/heartbeats", detail::attach);
    r.post("/channels/{id}/test", detail::test);
    r.post("/channels/{id}/confirmation", detail::resend_confirmation);
    r.get("/channels/{id}/edit", edit::form);
    r.post("/channels/{id}/edit", edit::submit);
    r.get("/channels/{id}/delete", delete::form);
    r.post("/channels/{id}/delete", delete::submit);
}
