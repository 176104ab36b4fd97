//! Teams: invitations by email, roles, leaving, the plan's member limit, the audit log,
//! creating, switching and deleting teams.

use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatName, Schedule};
use lifeline_store::heartbeats::{self, NewHeartbeat};
use lifeline_store::{TeamScope, tokens};
use lifeline_testkit::{Page, SmtpMode, SmtpServer, TestWeb, WebClient};
use reqwest::StatusCode;

use crate::{link_path, nth_mail_to};

const PASSWORD: &str = "correct horse battery";

/// A dashboard that sends its mail to a local SMTP server.
async fn with_mail() -> (TestWeb, SmtpServer) {
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let web = TestWeb::start_with(|s| s, Some(smtp.url())).await;
    (web, smtp)
}

/// `inviter` invites `email` with `role`; returns the path of the link mailed to them (the
/// `n`-th mail to that address).
async fn invite(
    web: &TestWeb,
    smtp: &SmtpServer,
    inviter: &mut WebClient,
    email: &str,
    role: &str,
    n: usize,
) -> String {
    inviter.get("/team").await;
    let sent = inviter
        .post("/team/invitations", &[("email", email), ("role", role)])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mail = nth_mail_to(smtp, email, n).await;
    link_path(&mail, &web.base, "/invitations/")
}

/// A new person joins the inviter's team with `role` by signing up through the link.
async fn joined(
    web: &TestWeb,
    smtp: &SmtpServer,
    inviter: &mut WebClient,
    email: &str,
    role: &str,
) -> WebClient {
    let link = invite(web, smtp, inviter, email, role, 1).await;
    let mut browser = web.client();
    browser.get(&link).await;
    let done = browser.post(&link, &[("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    browser
}

/// The user id the team page shows for `email`.
fn user_id(team_page: &Page, email: &str) -> String {
    let marker = format!("data-member=\"{email}\" data-user-id=\"");
    let start = team_page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{email} is not on the team page: {}", team_page.body))
        + marker.len();
    team_page.body[start..start + 36].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_signs_up_through_the_emailed_link_and_sees_the_team() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    let team = owner.get("/team").await;
    assert_eq!(team.status, StatusCode::OK);
    assert!(team.contains("id=\"plan\""));
    assert!(team.contains("Plan: Free"), "{}", team.body);
    assert!(team.contains("data-members-used>1 of 3<"), "{}", team.body);
    assert!(team.contains("data-heartbeats-used>0 of 20<"));
    assert!(team.contains(r#"href="/billing" data-billing-link"#));
    assert!(team.contains("data-no-invitations"));
    // The owner's billing page works even while the billing service does not answer: it shows
    // the plan and says why nothing can be bought right now.
    let billing = owner.get("/billing").await;
    assert_eq!(billing.status, StatusCode::OK, "{}", billing.body);
    assert!(
        billing.contains("data-billing-unreachable"),
        "{}",
        billing.body
    );
    assert!(billing.contains(r#"data-plan-row="premium""#));
    assert!(!billing.contains("data-upgrade-to"));

    let sent = owner
        .post(
            "/team/invitations",
            &[("email", "Bob@Example.com"), ("role", "member")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let team = owner.follow(&sent).await;
    assert!(
        team.contains("Invitation sent to bob@example.com"),
        "{}",
        team.body
    );
    assert!(team.contains("data-invitation=\"bob@example.com\""));
    assert!(
        team.contains("2 of 3, 1 pending invitation included"),
        "{}",
        team.body
    );

    let mail = nth_mail_to(&smtp, "bob@example.com", 1).await;
    let subject = mail.subject().unwrap();
    assert!(
        subject.contains("olive@example.com") && subject.contains("Acme"),
        "{subject}"
    );
    let link = link_path(&mail, &web.base, "/invitations/");

    let mut bob = web.client();
    let page = bob.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.contains("data-invitation=\"sign-up\""),
        "{}",
        page.body
    );
    assert!(page.contains("Join Acme"));
    assert!(page.contains("as a member"));
    let short = bob.post(&link, &[("password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.contains("at least 8 characters"));
    let accepted = bob.post(&link, &[("password", PASSWORD)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(accepted.location(), Some("/heartbeats"));
    let acme = bob
        .cookie("ll_team")
        .expect("the team becomes the current one");
    let home = bob.follow(&accepted).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.contains("Welcome to Acme"), "{}", home.body);
    assert!(home.contains("data-current-team>Acme<"), "{}", home.body);

    // The link is spent; Bob can log in with the password he chose.
    let again = web.client().get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.contains("already accepted"));
    assert_eq!(
        web.client()
            .log_in("bob@example.com", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // Bob makes a team of his own, which becomes his current one; the nav offers both.
    bob.get("/teams/new").await;
    let created = bob
        .post("/teams/new", &[("team", "Bob's side project")])
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_ne!(bob.cookie("ll_team").unwrap(), acme);
    let home = bob.follow(&created).await;
    assert!(home.contains("data-team-switch"), "{}", home.body);
    assert!(home.contains("Bob&#39;s side project") || home.contains("Bob&#x27;s side project"));
    assert!(home.contains(">Acme</option>"), "{}", home.body);
    let switched = bob
        .post("/teams/switch", &[("team_id", acme.as_str())])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let team = bob.get("/team").await;
    assert!(team.contains("data-team-name>Acme<"), "{}", team.body);
    let account = bob.get("/account").await;
    assert!(account.contains("data-role>member<"));
    assert!(account.contains("data-role>owner<"));

    // The owner sees Bob among the members, and the log has both sides.
    let team = owner.get("/team").await;
    assert!(team.contains("data-member=\"bob@example.com\""));
    assert!(team.contains("data-no-invitations"));
    let audit = owner.get("/audit").await;
    assert!(
        audit.contains("data-action=\"member.invite\""),
        "{}",
        audit.body
    );
    assert!(audit.contains("data-action=\"invitation.accept\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_to_an_existing_account_needs_its_login() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    let mut carol = web.client();
    carol
        .sign_up("carol@example.com", PASSWORD, "Carol's")
        .await;
    carol.post("/logout", &[]).await;
    let mut dave = web.client();
    dave.sign_up("dave@example.com", PASSWORD, "Dave's").await;

    let link = invite(&web, &smtp, &mut owner, "carol@example.com", "viewer", 1).await;
    let page = carol.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("data-invitation=\"log-in\""), "{}", page.body);
    let login_href = format!(
        "/login?next=%2Finvitations%2F{}",
        &link["/invitations/".len()..]
    );
    assert!(page.contains(&login_href), "{}", page.body);

    // Someone else, logged in, is told the invitation is not theirs, and cannot take it.
    let page = dave.get(&link).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("logged in as <strong>dave@example.com</strong>"),
        "{}",
        page.body
    );
    let taken = dave.post(&link, &[]).await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN);

    // Carol logs in, comes back to the invitation, and joins.
    carol.get(&login_href).await;
    let back = carol
        .post(
            "/login",
            &[
                ("email", "carol@example.com"),
                ("password", PASSWORD),
                ("next", &link),
            ],
        )
        .await;
    assert_eq!(back.location(), Some(link.as_str()));
    let page = carol.follow(&back).await;
    assert!(page.contains("data-join"), "{}", page.body);
    let joined = carol.post(&link, &[]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    let team = carol.get("/team").await;
    assert!(team.contains("data-team-name>Acme<"));
    assert!(team.contains("data-member=\"carol@example.com\""));
    assert!(
        !team.contains("action=\"/team/invitations\""),
        "viewers get no invite form"
    );

    // Expired, revoked and unknown links say so.
    let late = invite(&web, &smtp, &mut owner, "erin@example.com", "member", 1).await;
    let mut conn = web.db.conn().await;
    diesel::sql_query(
        "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = 'erin@example.com'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let page = web.client().get(&late).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.contains("has expired"));
    let mut erin = web.client();
    erin.get(&late).await;
    let refused = erin.post(&late, &[("password", PASSWORD)]).await;
    assert_eq!(refused.status, StatusCode::GONE);

    let revoked = invite(&web, &smtp, &mut owner, "fay@example.com", "member", 1).await;
    let team = owner.get("/team").await;
    let marker = "action=\"/team/invitations/";
    let start = team.body.find(marker).unwrap() + marker.len();
    let id = &team.body[start..start + 36];
    let done = owner
        .post(&format!("/team/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.client().get(&revoked).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.contains("not valid"));
    let audit = owner.get("/audit").await;
    assert!(audit.contains("data-action=\"invitation.revoke\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_who_may_manage_members() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    // Standard allows ten members: room for everyone here.
    let team_id = owner.cookie("ll_team").unwrap();
    let mut conn = web.db.conn().await;
    diesel::sql_query(format!(
        "UPDATE teams SET plan = 'standard' WHERE id = '{team_id}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let mut admin = joined(&web, &smtp, &mut owner, "adam@example.com", "admin").await;
    let mut member = joined(&web, &smtp, &mut owner, "mia@example.com", "member").await;
    let mut viewer = joined(&web, &smtp, &mut owner, "vic@example.com", "viewer").await;
    let team = owner.get("/team").await;
    let owner_id = user_id(&team, "olive@example.com");
    let mia = user_id(&team, "mia@example.com");
    let vic = user_id(&team, "vic@example.com");

    // Viewers and members cannot invite, change roles or remove.
    for browser in [&mut viewer, &mut member] {
        browser.get("/team").await;
        let page = browser
            .post(
                "/team/invitations",
                &[("email", "x@example.com"), ("role", "viewer")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        let page = browser
            .post(&format!("/team/members/{vic}/role"), &[("role", "member")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let page = browser
            .post(
                &format!("/team/members/{vic}/remove"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.get("/audit").await.status, StatusCode::FORBIDDEN);
    }

    // Admins manage members, but not owners, and make no owners.
    admin.get("/team").await;
    let page = admin
        .post(
            &format!("/team/members/{owner_id}/role"),
            &[("role", "member")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.contains("only an owner"), "{}", page.body);
    let page = admin
        .post(
            &format!("/team/members/{owner_id}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = admin
        .post(&format!("/team/members/{mia}/role"), &[("role", "owner")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = admin
        .post(&format!("/team/members/{mia}/role"), &[("role", "viewer")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let team = admin.follow(&page).await;
    assert!(
        team.contains("mia@example.com is now a viewer (was a member)"),
        "{}",
        team.body
    );

    // Removing asks first.
    let ask = admin
        .post(&format!("/team/members/{vic}/remove"), &[])
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(
        ask.contains("Remove vic@example.com from Acme?"),
        "{}",
        ask.body
    );
    let removed = admin
        .post(
            &format!("/team/members/{vic}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let page = viewer.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no team left");
    assert!(page.contains("/teams/new"));

    // The last owner can neither leave nor step down.
    owner.get("/team").await;
    let page = owner.post("/team/leave", &[("confirm", "yes")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("last owner"), "{}", page.body);
    let page = owner
        .post(
            &format!("/team/members/{owner_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("a team needs an owner"));

    // Once there is another owner, the first may leave.
    let adam = user_id(&owner.get("/team").await, "adam@example.com");
    let page = owner
        .post(&format!("/team/members/{adam}/role"), &[("role", "owner")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    owner.get("/team").await;
    let ask = owner.post("/team/leave", &[]).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.contains("Leave Acme?"));
    let left = owner.post("/team/leave", &[("confirm", "yes")]).await;
    assert_eq!(left.status, StatusCode::SEE_OTHER, "{}", left.body);
    assert_eq!(left.location(), Some("/account"), "Olive has no team left");
    let account = owner.follow(&left).await;
    assert!(account.contains("You left Acme"), "{}", account.body);
    assert!(account.contains("You are not in any team"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_member_limit_counts_invitations_and_names_the_plan() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    invite(&web, &smtp, &mut owner, "a@example.com", "member", 1).await;
    invite(&web, &smtp, &mut owner, "b@example.com", "member", 1).await;

    let team = owner.get("/team").await;
    assert!(team.contains("data-seats-full"), "{}", team.body);
    let page = owner
        .post(
            "/team/invitations",
            &[("email", "c@example.com"), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYMENT_REQUIRED, "{}", page.body);
    assert!(
        page.contains("the free plan allows 3 members"),
        "{}",
        page.body
    );
    assert!(page.contains("href=\"/billing\""));
    assert!(smtp.mails().iter().all(|m| m.rcpt_to != ["c@example.com"]));

    // Inviting the same address again replaces its invitation instead of taking a seat.
    let again = invite(&web, &smtp, &mut owner, "a@example.com", "viewer", 2).await;
    let page = web.client().get(&again).await;
    assert!(page.contains("as a viewer"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_pages_through_the_changes_for_admins_only() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    let mut member = joined(&web, &smtp, &mut owner, "mia@example.com", "member").await;
    owner.get("/team").await;
    for n in 1..=55 {
        let page = owner
            .post("/team/rename", &[("name", &format!("Acme {n}"))])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let page = owner.post("/team/rename", &[("name", "  ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    let first = owner.get("/audit").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("data-audit-id=").count(), 50);
    assert!(first.contains("data-action=\"team.rename\""));
    assert!(
        first.contains("from: Acme 54, to: Acme 55"),
        "newest first: {}",
        first.body
    );
    assert!(first.contains("olive@example.com"));
    let start = first
        .body
        .find("href=\"/audit?before=")
        .expect("an older page")
        + "href=\"".len();
    let end = first.body[start..].find('"').unwrap() + start;
    let older = owner.get(&first.body[start..end]).await;
    assert_eq!(older.status, StatusCode::OK);
    // 55 renames, the invitation, its acceptance and the team's creation: 58 in all.
    assert_eq!(older.body.matches("data-audit-id=").count(), 8);
    assert!(older.contains("data-action=\"team.create\""));
    assert!(older.contains("data-action=\"invitation.accept\""));
    assert!(!older.contains("data-older"));

    let page = member.get("/audit").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.contains("audit log"));
    let page = member.get("/team").await;
    assert!(!page.contains("href=\"/audit\""), "no link for members");
    assert!(!page.contains("action=\"/team/rename\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_team_takes_its_exact_name_and_an_owner() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    let acme = owner.cookie("ll_team").unwrap();
    let mut admin = joined(&web, &smtp, &mut owner, "adam@example.com", "admin").await;
    owner.get("/teams/new").await;
    owner.post("/teams/new", &[("team", "Other")]).await;
    owner
        .post("/teams/switch", &[("team_id", acme.as_str())])
        .await;
    // A heartbeat whose ping URL must die with the team.
    let olive: lifeline_domain::UserId = user_id(&owner.get("/team").await, "olive@example.com")
        .parse()
        .unwrap();
    let mut conn = web.db.conn().await;
    let scope = TeamScope::for_member(&mut conn, olive, acme.parse().unwrap())
        .await
        .unwrap();
    let hb = heartbeats::create(
        &mut conn,
        &scope,
        NewHeartbeat::new(
            HeartbeatName::parse("nightly").unwrap(),
            Schedule::from_secs(86_400, 3600).unwrap(),
        ),
    )
    .await
    .unwrap();

    admin.get("/team").await;
    let page = admin
        .post("/team/delete", &[("confirm_name", "Acme")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let team = owner.get("/team").await;
    assert!(team.contains("name=\"confirm_name\""));
    for wrong in ["", "acme", "Acme!"] {
        let page = owner.post("/team/delete", &[("confirm_name", wrong)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong:?}");
        assert!(page.contains("type its name exactly"), "{}", page.body);
    }
    assert_eq!(
        owner.get("/team").await.status,
        StatusCode::OK,
        "still there"
    );

    let deleted = owner
        .post("/team/delete", &[("confirm_name", "Acme")])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert_eq!(deleted.location(), Some("/heartbeats"));
    let home = owner.follow(&deleted).await;
    assert!(
        home.contains("The team Acme and everything in it is deleted"),
        "{}",
        home.body
    );
    assert!(home.contains("data-current-team>Other<"), "{}", home.body);
    let revoked = tokens::revoked_since(&mut conn, chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert!(
        revoked
            .iter()
            .any(|(hash, _)| *hash == hb.token_hash().unwrap()),
        "the heartbeat's token is revoked"
    );
    let lost: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM heartbeats) + (SELECT count(*) FROM memberships WHERE user_id IN \
         (SELECT id FROM users WHERE email = 'adam@example.com'))",
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(lost, 0, "heartbeats and memberships went with the team");
    // Its other member has no team left.
    let page = admin.get("/heartbeats").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = admin.get("/account").await;
    assert!(page.contains("You are not in any team"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_set_the_teams_time_zone_and_heartbeats_without_one_follow_it() {
    let (web, smtp) = with_mail().await;
    let mut owner = web.client();
    owner.sign_up("olive@example.com", PASSWORD, "Acme").await;
    let mut admin = joined(&web, &smtp, &mut owner, "adam@example.com", "admin").await;
    let mut member = joined(&web, &smtp, &mut owner, "mia@example.com", "member").await;
    let team_id: lifeline_domain::TeamId = owner.cookie("ll_team").unwrap().parse().unwrap();
    let scope = TeamScope::for_operator(&mut web.db.conn().await, team_id)
        .await
        .unwrap();
    let hb = heartbeats::create(
        &mut web.db.conn().await,
        &scope,
        NewHeartbeat::new(
            HeartbeatName::parse("payroll").unwrap(),
            Schedule::from_secs(86_400, 3_600).unwrap(),
        ),
    )
    .await
    .unwrap();

    let page = owner.get("/team").await;
    assert!(
        page.contains(r#"data-team-time-zone="UTC""#),
        "every team starts in UTC: {}",
        page.body
    );
    assert!(page.contains(r#"action="/team/time-zone""#));
    assert!(page.contains(r#"<option value="Europe/Paris">"#));

    // Members see the zone but may not change it.
    let page = member.get("/team").await;
    assert!(page.contains(r#"data-team-time-zone="UTC""#));
    assert!(
        !page.contains(r#"action="/team/time-zone""#),
        "{}",
        page.body
    );
    let refused = member
        .post("/team/time-zone", &[("time_zone", "Asia/Tokyo")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // Admins may.
    admin.get("/team").await;
    let saved = admin
        .post("/team/time-zone", &[("time_zone", "Europe/Paris")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), Some("/team"));
    let page = admin.follow(&saved).await;
    assert!(
        page.contains(r#"data-team-time-zone="Europe/Paris""#),
        "{}",
        page.body
    );
    assert!(
        page.contains("time zone is now Europe/Paris"),
        "{}",
        page.body
    );
    assert!(page.contains(r#"name="time_zone" value="Europe/Paris""#));

    // A name that is not a zone: the page again, the message beside the field, the text kept.
    let bad = admin
        .post("/team/time-zone", &[("time_zone", "Europe/Pariss")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        ["&#34;", "&quot;"].iter().any(|q| bad.contains(&format!(
            "Unknown time zone {q}Europe/Pariss{q}: use an IANA name such as Europe/Paris"
        ))),
        "{}",
        bad.body
    );
    assert!(bad.contains("data-time-zone-error"));
    assert!(bad.contains(r#"name="time_zone" value="Europe/Pariss""#));
    assert!(
        bad.contains(r#"data-team-time-zone="Europe/Paris""#),
        "unchanged"
    );
    let blank = admin.post("/team/time-zone", &[("time_zone", " ")]).await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a team always has one"
    );

    // The owner too; letter case is forgiven.
    owner.get("/team").await;
    let saved = owner
        .post("/team/time-zone", &[("time_zone", "america/new_york")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let detail = owner.get(&format!("/heartbeats/{}", hb.id)).await;
    assert!(
        detail.contains(r#"data-time-zone="America/New_York">America/New_York <span class="muted">(team default)</span>"#),
        "the heartbeat has none of its own: {}",
        detail.body
    );
    assert_eq!(
        heartbeats::effective_time_zone(&mut web.db.conn().await, &scope, hb.id)
            .await
            .unwrap()
            .as_str(),
        "America/New_York"
    );

    // Audited like other team changes.
    let audit = owner.get("/audit").await;
    assert!(
        audit.contains(r#"data-action="team.time_zone""#),
        "{}",
        audit.body
    );
    assert!(
        audit.contains("from: UTC, to: Europe/Paris"),
        "{}",
        audit.body
    );
    assert!(audit.contains("from: Europe/Paris, to: America/New_York"));
}
