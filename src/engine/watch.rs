//! `ohdev watch` (and `up --watch`): hand the Session to the watch loop until interrupted.

use super::Session;
use crate::error::Error;

pub async fn watch(session: Session) -> Result<(), Error> {
    crate::watch::run(session).await
}
