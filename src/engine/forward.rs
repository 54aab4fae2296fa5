//! `ohdev forward`: the `ports:` forwards of an environment that is already up, kept up across
//! pod restarts until Ctrl-C. The forwards themselves live in `forward/`.

use super::Session;
use crate::error::Error;
use crate::forward::Forwards;

/// Run the forwards until ohdev is asked to stop. The caller checked the local ports.
pub async fn forward(session: &Session) -> Result<(), Error> {
    let forwards = Forwards::start(&session.config, session.kubectl(), &session.reporter);
    session.cancel.cancelled().await;
    drop(forwards);
    Ok(())
}
