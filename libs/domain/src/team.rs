//! Teams and the people in them: names, email addresses and roles, checked once at the edge.

use crate::labels::label_enum;

label_enum! {
    /// A member's role in a team, from most to least powerful.
    pub enum Role as "role" {
        /// Everything, including billing and deleting the team.
        Owner => "owner",
        /// Manages members and channels.
        Admin => "admin",
        /// Manages heartbeats.
        Member => "member",
        /// Reads.
        Viewer => "viewer",
    }
}

impl Role {
    /// Whether this role has at least the rights of `needed` (roles are nested: an owner can do
    /// what an admin can, and so on down to viewers).
    pub fn at_least(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    /// Whether someone with this role may change a member whose role is `from` to `to`, or
    /// remove them (`to` is `None`). Admins manage members; only owners make, change or remove
    /// owners. That a team keeps at least one owner is checked where the owners are counted.
    pub fn may_change_member(
        self,
        from: Role,
        to: Option<Role>,
    ) -> Result<(), MemberChangeRefused> {
        if !self.at_least(Role::Admin) {
            return Err(MemberChangeRefused::NotAnAdmin { role: self });
        }
        if (from == Role::Owner || to == Some(Role::Owner)) && self != Role::Owner {
            return Err(MemberChangeRefused::OwnersOnly);
        }
        Ok(())
    }

    fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
            Role::Viewer => 0,
        }
    }
}

/// Why a change to someone's membership was refused; the message is meant for the person who
/// asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemberChangeRefused {
    #[error("only a team admin or owner may manage members; you are a {role}")]
    NotAnAdmin { role: Role },
    #[error("only an owner may make someone an owner, or change or remove an owner")]
    OwnersOnly,
}

/// Why a name or address was refused; the message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("{what} must be 1 to {max} characters")]
    Length { what: &'static str, max: usize },
    /// For optional text, where the field's name says what it is.
    #[error("at most {max} characters")]
    TooLong { max: usize },
    #[error("{0:?} is not an email address")]
    Email(String),
}

/// Trims `raw` and checks it has 1 to `max` characters.
pub(crate) fn bounded_text(
    raw: &str,
    what: &'static str,
    max: usize,
) -> Result<String, InvalidInput> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(InvalidInput::Length { what, max });
    }
    Ok(text.to_owned())
}

/// A team's name: 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        bounded_text(raw, "team name", 100).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased: one `@` with something on both sides and a dot in the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.chars().any(char::is_whitespace);
        if valid {
            Ok(Self(email))
        } else {
            Err(InvalidInput::Email(email))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TeamName::parse("  Ops ").map(|n| n.0), Ok("Ops".into()));
        assert!(TeamName::parse("   ").is_err());
        assert!(TeamName::parse(&"x".repeat(101)).is_err());
        assert!(
            TeamName::parse(&"é".repeat(100)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.0),
            Ok("ann@example.com".into())
        );
        for bad in ["not an email", "@example.com", "ann@localhost", "a b@x.io"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_owners_touch_owners() {
        use Role::*;
        assert_eq!(Owner.may_change_member(Owner, Some(Admin)), Ok(()));
        assert_eq!(Owner.may_change_member(Member, Some(Owner)), Ok(()));
        assert_eq!(Owner.may_change_member(Owner, None), Ok(()));
        assert_eq!(Admin.may_change_member(Member, Some(Admin)), Ok(()));
        assert_eq!(Admin.may_change_member(Admin, None), Ok(()));
        assert_eq!(
            Admin.may_change_member(Owner, Some(Member)),
            Err(MemberChangeRefused::OwnersOnly)
        );
        assert_eq!(
            Admin.may_change_member(Viewer, Some(Owner)),
            Err(MemberChangeRefused::OwnersOnly)
        );
        assert_eq!(
            Admin.may_change_member(Owner, None),
            Err(MemberChangeRefused::OwnersOnly)
        );
        for role in [Member, Viewer] {
            assert_eq!(
                role.may_change_member(Viewer, Some(Member)),
                Err(MemberChangeRefused::NotAnAdmin { role })
            );
        }
    }

    #[test]
    fn roles_are_the_four_of_the_product() {
        let words: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(words, ["owner", "admin", "member", "viewer"]);
    }
}
