//! Teams: switching between the user's teams.

mod switch;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.post("/teams/switch", switch::submit);
}
