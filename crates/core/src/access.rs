//! Who may do what to an object (an app or pod, a template, a catalog
//! repository, a script job): one rule for all of them. The level of a user
//! on an object is ADMIN for administrators and the owner; else what a grant
//! gives them; else READ if the object is public; else none, and then the
//! object does not exist for them. An action needing more than their level
//! is forbidden.

use crate::error::{CoreError, CoreResult};
use crate::model::{Level, User};

/// The level `actor` has on an object owned by `owner_id`, given the grant
/// they hold on it (if it takes grants) and whether it is public.
pub fn level(actor: &User, owner_id: i64, granted: Option<Level>, public: bool) -> Option<Level> {
    if owns(actor, owner_id) {
        Some(Level::Admin)
    } else {
        granted.or(public.then_some(Level::Read))
    }
}

/// Whether `actor` holds an object owned by `owner_id` outright: an
/// administrator or its owner, whatever grants say.
pub fn owns(actor: &User, owner_id: i64) -> bool {
    actor.is_admin || owner_id == actor.id
}

/// Nothing if `level` is enough for what needs `need`; else the action is forbidden.
pub fn require(level: Level, need: Level) -> CoreResult<()> {
    if level < need {
        return Err(CoreError::permission_denied());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, is_admin: bool) -> User {
        User {
            id,
            username: format!("user{id}"),
            email: String::new(),
            password_hash: String::new(),
            is_admin,
            is_active: true,
            tenant: String::new(),
            name: Default::default(),
            created: crate::model::now(),
            last_login: None,
        }
    }

    #[test]
    fn owners_and_administrators_hold_everything() {
        assert_eq!(level(&user(1, false), 1, None, false), Some(Level::Admin));
        assert_eq!(level(&user(2, true), 1, None, false), Some(Level::Admin));
        assert_eq!(
            level(&user(2, true), 1, Some(Level::Read), false),
            Some(Level::Admin)
        );
    }

    #[test]
    fn others_have_their_grant_or_read_on_public_objects() {
        let other = user(2, false);
        assert_eq!(
            level(&other, 1, Some(Level::User), false),
            Some(Level::User)
        );
        assert_eq!(level(&other, 1, Some(Level::User), true), Some(Level::User));
        assert_eq!(level(&other, 1, None, true), Some(Level::Read));
        assert_eq!(level(&other, 1, None, false), None);
    }

    #[test]
    fn a_level_below_the_need_is_forbidden() {
        assert!(require(Level::Admin, Level::Admin).is_ok());
        assert!(require(Level::User, Level::Read).is_ok());
        assert_eq!(
            require(Level::Read, Level::User),
            Err(CoreError::permission_denied())
        );
    }
}
