//! Following the change feed: the changes of the apps a user may read, as
//! they happen.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Berth, app_object};
use crate::access;
use crate::error::CoreResult;
use crate::feed::Change;
use crate::model::{Level, User};

/// How often a quiet follower's credentials are checked again.
const RECHECK: Duration = Duration::from_secs(15);

impl Berth {
    /// The changes of the apps `actor` may read from now on; of `app` only
    /// when given (which is not found to anyone who may not read it). Who
    /// may read an app is decided as each change is sent, so a share or an
    /// unshare counts from the next change on. With `after`, the number of
    /// the last change a follower saw, the kept changes after it come first.
    /// With `token`, the credential the follower opened the stream with,
    /// the stream ends once that token no longer signs `actor` in (logged
    /// out, regenerated, account cancelled or disabled): checked before
    /// each change goes out and every [`RECHECK`] in between.
    pub async fn follow_changes(
        self: &Arc<Self>,
        actor: &User,
        app: Option<&str>,
        after: Option<u64>,
        token: Option<&str>,
    ) -> CoreResult<impl Stream<Item = Change> + Send + 'static> {
        if let Some(id) = app {
            self.app(actor, id, Level::Read).await?;
        }
        let (missed, changes) = self.signals.changes.subscribe_after(after);
        let follower = Follower {
            berth: self.clone(),
            actor: actor.clone(),
            token: token.map(str::to_string),
            app: app.map(str::to_string),
            missed: missed.into_iter(),
            changes,
        };
        Ok(futures::stream::unfold(
            follower,
            |mut follower| async move {
                let change = follower.next().await?;
                Some((change, follower))
            },
        ))
    }

    /// Whether `token` (when there is one) still signs `actor` in.
    async fn still_signed_in(&self, actor: &User, token: Option<&str>) -> bool {
        match token {
            Some(token) => self
                .authenticate(token)
                .await
                .is_ok_and(|user| user.id == actor.id),
            None => true,
        }
    }

    /// Whether `actor` may read the app a change is about: its owner or an
    /// administrator always; anyone else through a grant on the app as it
    /// is now (so not once it is gone).
    async fn may_see_change(&self, actor: &User, change: &Change) -> bool {
        if change
            .owner_id
            .is_some_and(|owner| access::owns(actor, owner))
            || actor.is_admin
        {
            return true;
        }
        match self.store.get_app(&change.app).await {
            Ok(Some(app)) if change.owner_id.is_none_or(|owner| owner == app.owner_id) => matches!(
                self.level_on(actor, app.owner_id, &app_object(&app), false)
                    .await,
                Ok(Some(_))
            ),
            _ => false,
        }
    }
}

/// One follower's place in the feed.
struct Follower {
    berth: Arc<Berth>,
    actor: User,
    token: Option<String>,
    app: Option<String>,
    missed: std::vec::IntoIter<Change>,
    changes: tokio::sync::broadcast::Receiver<Change>,
}

impl Follower {
    /// The next change for this follower; none once the feed closes or the
    /// follower's token stops signing them in.
    async fn next(&mut self) -> Option<Change> {
        loop {
            let change = match self.missed.next() {
                Some(change) => change,
                None => match tokio::time::timeout(RECHECK, self.changes.recv()).await {
                    Ok(Ok(change)) => change,
                    Ok(Err(RecvError::Lagged(_))) => continue,
                    Ok(Err(RecvError::Closed)) => return None,
                    Err(_quiet) => {
                        if !self.signed_in().await {
                            return None;
                        }
                        continue;
                    }
                },
            };
            if self.app.as_ref().is_some_and(|id| *id != change.app) {
                continue;
            }
            if !self.signed_in().await {
                return None;
            }
            if self.berth.may_see_change(&self.actor, &change).await {
                return Some(change);
            }
        }
    }

    async fn signed_in(&self) -> bool {
        self.berth
            .still_signed_in(&self.actor, self.token.as_deref())
            .await
    }
}
