//! Whether an access token's session still stands, so that a revoked session (a sign-out, a
//! deactivated account, a changed password, an un-enrolled phone) stops its access tokens at once
//! rather than when they expire.
//!
//! Each check is one indexed lookup; a session found live is remembered for [`LIVE_FOR`], so a
//! burst of requests (the dashboard's) costs one. Revocations made by this instance forget
//! everything remembered, so they take effect here at once; another instance on the same database
//! notices within [`LIVE_FOR`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, web};
use uuid::Uuid;

use crate::db::{self, Pool};
use crate::domain::ids::SessionId;
use crate::error::ApiError;

pub const LIVE_FOR: Duration = Duration::from_secs(2);
/// Past this many remembered sessions the memory starts over, so it can't grow without bound.
const MOST_REMEMBERED: usize = 100_000;

/// The sessions recently found live, and when.
#[derive(Default)]
pub struct LiveSessions(Mutex<HashMap<Uuid, Instant>>);

impl LiveSessions {
    fn recently_live(&self, session: Uuid) -> bool {
        let live = self.0.lock().unwrap_or_else(|e| e.into_inner());
        live.get(&session).is_some_and(|at| at.elapsed() < LIVE_FOR)
    }

    fn remember(&self, session: Uuid) {
        let mut live = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= MOST_REMEMBERED {
            live.clear();
        }
        live.insert(session, Instant::now());
    }

    /// Called after any revocation: the next request of every session is checked again.
    pub fn forget_all(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// 401 unless the session is live.
pub async fn ensure_live(req: &HttpRequest, session: Uuid) -> Result<(), ApiError> {
    let missing = || ApiError::internal(anyhow::anyhow!("sessions are not configured"));
    let cache = req
        .app_data::<web::Data<LiveSessions>>()
        .ok_or_else(missing)?
        .clone();
    if cache.recently_live(session) {
        return Ok(());
    }
    let pool = req.app_data::<web::Data<Pool>>().ok_or_else(missing)?;
    let live = db::run(pool, move |conn| {
        Ok::<_, ApiError>(db::sessions::is_live(conn, SessionId::from(session))?)
    })
    .await?;
    if !live {
        return Err(ApiError::Unauthorized(
            "the session has ended; sign in again",
        ));
    }
    cache.remember(session);
    Ok(())
}
