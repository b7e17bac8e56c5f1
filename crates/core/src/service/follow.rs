//! Following the change feed: the changes of the apps a user may read, as
//! they happen.

use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Berth, app_object};
use crate::access;
use crate::error::CoreResult;
use crate::feed::Change;
use crate::model::{Level, User};

impl Berth {
    /// The changes of the apps `actor` may read from now on; of `app` only
    /// when given (which is not found to anyone who may not read it). Who
    /// may read an app is decided as each change is sent, so a share or an
    /// unshare counts from the next change on. With `after`, the number of
    /// the last change a follower saw, the kept changes after it come first.
    pub async fn follow_changes(
        self: &Arc<Self>,
        actor: &User,
        app: Option<&str>,
        after: Option<u64>,
    ) -> CoreResult<impl Stream<Item = Change> + Send + 'static> {
        if let Some(id) = app {
            self.app(actor, id, Level::Read).await?;
        }
        let (missed, changes) = self.signals.changes.subscribe_after(after);
        let follower = (
            self.clone(),
            actor.clone(),
            app.map(str::to_string),
            missed.into_iter(),
            changes,
        );
        Ok(futures::stream::unfold(
            follower,
            |(berth, actor, app, mut missed, mut changes)| async move {
                loop {
                    let change = match missed.next() {
                        Some(change) => change,
                        None => match changes.recv().await {
                            Ok(change) => change,
                            Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => return None,
                        },
                    };
                    if app.as_ref().is_some_and(|id| *id != change.app) {
                        continue;
                    }
                    if berth.may_see_change(&actor, &change).await {
                        return Some((change, (berth, actor, app, missed, changes)));
                    }
                }
            },
        ))
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
