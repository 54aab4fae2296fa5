//! The real Docker engine for tests: skip with a printed reason when absent, unless
//! OHDEV_REQUIRE_DOCKER=1 (set by .ci/run), where absence is a failure.

use bollard::Docker;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A connected client, or None (after printing why) when Docker is absent and not required.
pub fn client() -> Option<Docker> {
    let result = runtime().block_on(async {
        let docker = Docker::connect_with_defaults().map_err(|error| error.to_string())?;
        let docker = docker.negotiate_version().await.map_err(|error| error.to_string())?;
        docker.ping().await.map_err(|error| error.to_string())?;
        Ok::<Docker, String>(docker)
    });
    match result {
        Ok(docker) => Some(docker),
        Err(error) => {
            if std::env::var("OHDEV_REQUIRE_DOCKER").as_deref() == Ok("1") {
                panic!("OHDEV_REQUIRE_DOCKER=1 but the Docker daemon is not reachable: {error}");
            }
            eprintln!("SKIPPED: this test needs a Docker daemon ({error}); set OHDEV_REQUIRE_DOCKER=1 to make that a failure");
            None
        }
    }
}
