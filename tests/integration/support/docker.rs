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
            eprintln!(
                "SKIPPED: this test needs a Docker daemon ({error}); set OHDEV_REQUIRE_DOCKER=1 to make that a failure"
            );
            None
        }
    }
}

/// A short name no other test of this run (or a parallel run) uses: image names, label values.
pub fn unique() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
    );
    blake3::hash(seed.as_bytes()).to_hex()[..10].to_string()
}

/// Runs `work` with a fresh client on a runtime of its own (safe from any thread, also in Drop).
pub fn with_docker<T, F>(work: impl FnOnce(Docker) -> F) -> T
where
    F: std::future::Future<Output = T>,
{
    runtime().block_on(async move {
        let docker = Docker::connect_with_defaults().expect("docker client");
        let docker = docker.negotiate_version().await.expect("docker API version");
        work(docker).await
    })
}

/// The busybox base image reference, or None when Docker is absent (the reason is printed).
pub fn base_or_skip() -> Option<String> {
    client()?;
    super::busybox::base_image()
}

/// Tag → image ID of every image ohdev built for image `name` (labels `managed-by=ohdev` and
/// `dev.ohdev.image=<name>`), as Docker reports them.
pub fn ohdev_images(name: &str) -> std::collections::BTreeMap<String, String> {
    let name = name.to_string();
    with_docker(|docker| async move {
        let mut filters: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
        filters
            .insert("label", vec!["app.kubernetes.io/managed-by=ohdev".to_string(), format!("dev.ohdev.image={name}")]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        let mut tags = std::collections::BTreeMap::new();
        for image in docker.list_images(Some(options)).await.expect("list images") {
            for tag in image.repo_tags {
                tags.insert(tag, image.id.clone());
            }
        }
        tags
    })
}

/// The distinct image IDs of [`ohdev_images`].
pub fn ohdev_image_ids(name: &str) -> Vec<String> {
    let mut ids: Vec<String> = ohdev_images(name).into_values().collect();
    ids.sort();
    ids.dedup();
    ids
}
