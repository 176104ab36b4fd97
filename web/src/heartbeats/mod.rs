//! The heartbeat pages: the list (with its live status poll), creating, editing, pausing,
//! resuming and deleting, and the detail page with its chart, log and history, and its AI mode
//! panel (the switch, learning progress, what was learned, early warnings marked expected).

mod ai_notice;
mod ai_panel;
mod chart;
mod create;
mod delete;
mod detail;
mod edit;
mod expected;
mod form;
mod list;
mod mode;
mod monitoring;
mod range;
mod rotate;
mod snippets;
mod statuses;
pub(crate) mod view;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    // Fixed paths first: `/heartbeats/new` and `/heartbeats/statuses` must not be taken for a
    // heartbeat id. The detail page, `/heartbeats/{id}`, is registered AFTER these.
    r.get("/heartbeats", list::page)
        .get("/heartbeats/new", create::form)
        .post("/heartbeats/new", create::submit)
        .get("/heartbeats/statuses", statuses::json)
        .get("/heartbeats/{id}/edit", edit::form)
        .post("/heartbeats/{id}/edit", edit::submit)
        .post("/heartbeats/{id}/pause", monitoring::pause)
        .post("/heartbeats/{id}/resume", monitoring::resume)
        .post("/heartbeats/{id}/mode", mode::switch)
        .post(
            "/heartbeats/{id}/warnings/{incident_id}/expected",
            expected::mark,
        )
        .get("/heartbeats/{id}/delete", delete::confirm)
        .post("/heartbeats/{id}/delete", delete::submit);
    // The detail page and its rotation last: the fixed paths above win over `{id}`.
    r.get("/heartbeats/{id}", detail::page)
        .get("/heartbeats/{id}/rotate", rotate::confirm)
        .post("/heartbeats/{id}/rotate", rotate::rotate);
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use lifeline_domain::Role;

    use crate::page::Nav;

    /// Renders the partial as the detail page includes it.
    #[derive(Template)]
    #[template(source = r#"{% include "heartbeats/_actions.html" %}"#, ext = "html")]
    struct Actions {
        hb_id: String,
        paused: bool,
        nav: Nav,
    }

    fn actions(role: Role, paused: bool) -> String {
        Actions {
            hb_id: "0192".to_owned(),
            paused,
            nav: Nav {
                csrf: "tok".to_owned(),
                role: Some(role),
                ..Nav::default()
            },
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_action_buttons_follow_the_state_and_the_role() {
        let running = actions(Role::Member, false);
        assert!(
            running.contains(r#"action="/heartbeats/0192/pause""#),
            "{running}"
        );
        assert!(!running.contains("/resume"));
        assert!(running.contains(r#"name="csrf_token" value="tok""#));
        assert!(running.contains(r#"href="/heartbeats/0192/edit""#));
        assert!(running.contains(r#"href="/heartbeats/0192/delete""#));

        let paused = actions(Role::Admin, true);
        assert!(
            paused.contains(r#"action="/heartbeats/0192/resume""#),
            "{paused}"
        );
        assert!(!paused.contains("/pause"));

        assert!(!actions(Role::Viewer, false).contains("<form"));
    }
}
