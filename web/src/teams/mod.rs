//! Teams: the team page (name, time zone, plan, members, invitations), creating and switching teams, accepting
//! invitations, and the audit log.

mod audit;
mod confirm;
mod invitations;
mod members;
mod new;
mod page;
mod switch;

pub(crate) use page::{limit, plan_name, used};

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.post("/teams/switch", switch::submit)
        .get("/teams/new", new::form)
        .post("/teams/new", new::submit)
        .get("/team", page::page)
        .post("/team/rename", page::rename)
        .post("/team/time-zone", page::set_time_zone)
        .post("/team/leave", page::leave)
        .post("/team/delete", page::delete)
        .post("/team/invitations", members::invite)
        .post("/team/invitations/{id}/revoke", members::revoke)
        .post("/team/members/{user_id}/role", members::set_role)
        .post("/team/members/{user_id}/remove", members::remove)
        .get("/invitations/{token}", invitations::page)
        .post("/invitations/{token}", invitations::accept)
        .get("/audit", audit::page);
}
