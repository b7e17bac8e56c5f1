//! The permission routes of pods, templates, volumes and snapshots: one
//! set of handlers, given the kind of object by a marker type of `kinds`,
//! each kind answering in its own words.

use axum::Json;
use axum::extract::{Path, State};
use berth_core::model::Level;
use berth_core::pods::permissions::SharedKind;
use utoipa::ToSchema;

use super::error::TapisResult;
use super::kinds::Shared;
use super::views::{self, Envelope, Permissions, ok};
use super::{Body, Caller};
use crate::AppState;

/// A grant (JSON or form).
#[derive(ToSchema)]
#[schema(as = TapisGrant)]
#[allow(dead_code)]
pub struct Grant {
    /// The user name.
    user: String,
    /// `READ`, `USER` or `ADMIN`.
    level: String,
}

/// The grants in the envelope, with `done` after the noun in the message
/// ("Volume permissions updated successfully."); templates answer
/// "Template permissions." on every route.
fn answer<K: Shared>(done: &str, perms: &[(String, Level)]) -> Json<Envelope<Permissions>> {
    let message = match K::KIND {
        SharedKind::Template => format!("{} permissions.", K::NOUN),
        _ => format!("{} {done}", K::NOUN),
    };
    ok(&message, views::permissions(perms))
}

pub async fn get_permissions<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
) -> TapisResult<Json<Envelope<Permissions>>> {
    let perms = s.berth.permissions(K::KIND, &user, &id).await?;
    Ok(answer::<K>("permissions retrieved successfully.", &perms))
}

pub async fn set_permission<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(id): Path<String>,
    body: Body,
) -> TapisResult<Json<Envelope<Permissions>>> {
    let perms = s
        .berth
        .set_permission(K::KIND, &user, &id, body.str("user")?, body.str("level")?)
        .await?;
    Ok(answer::<K>("permissions updated successfully.", &perms))
}

pub async fn delete_permission<K: Shared>(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path((id, who)): Path<(String, String)>,
) -> TapisResult<Json<Envelope<Permissions>>> {
    let perms = s.berth.delete_permission(K::KIND, &user, &id, &who).await?;
    Ok(answer::<K>("permission deleted successfully.", &perms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tapis::kinds::{Pods, Snapshots, Templates, Volumes};

    fn messages<K: Shared>() -> [String; 3] {
        [
            "permissions retrieved successfully.",
            "permissions updated successfully.",
            "permission deleted successfully.",
        ]
        .map(|done| answer::<K>(done, &[]).0.message)
    }

    #[test]
    fn each_kind_answers_in_its_own_words() {
        assert_eq!(
            messages::<Pods>(),
            [
                "Pod permissions retrieved successfully.",
                "Pod permissions updated successfully.",
                "Pod permission deleted successfully.",
            ]
        );
        assert_eq!(
            messages::<Volumes>(),
            [
                "Volume permissions retrieved successfully.",
                "Volume permissions updated successfully.",
                "Volume permission deleted successfully.",
            ]
        );
        assert_eq!(
            messages::<Snapshots>(),
            [
                "Snapshot permissions retrieved successfully.",
                "Snapshot permissions updated successfully.",
                "Snapshot permission deleted successfully.",
            ]
        );
        assert_eq!(messages::<Templates>(), ["Template permissions."; 3]);
    }
}
