//! kind: list, create, delete clusters and load images. Output parsing stays here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exec::Invocation;
use super::Tool;
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct Kind {
    program: PathBuf,
}

impl Kind {
    pub fn locate() -> Result<Kind, Error> {
        Ok(Kind { program: Tool::Kind.locate()? })
    }

    fn invocation(&self) -> Invocation {
        Invocation::new(&self.program, "kind")
    }

    pub async fn version(&self) -> Result<String, Error> {
        let output = self.invocation().arg("version").timeout(Duration::from_secs(20)).run().await?;
        Ok(parse_version(&output.stdout).unwrap_or_else(|| output.stdout.trim().to_string()))
    }

    pub async fn clusters(&self) -> Result<Vec<String>, Error> {
        let output = self.invocation().args(["get", "clusters"]).timeout(Duration::from_secs(30)).run().await?;
        Ok(output.stdout.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect())
    }

    /// The node names (Docker container names) of cluster `name`; none when it has none.
    pub async fn nodes(&self, name: &str) -> Result<Vec<String>, Error> {
        let output =
            self.invocation().args(["get", "nodes", "--name", name]).timeout(Duration::from_secs(30)).run().await?;
        Ok(output.stdout.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect())
    }

    /// How long `kind create cluster` may take beyond `--wait`: pulling the node image on a first run
    /// takes minutes; past this it is stuck, and ohdev stops it.
    pub const CREATE_MARGIN: Duration = Duration::from_secs(600);

    pub async fn create(&self, name: &str, config: &Path, wait: Duration) -> Result<(), Error> {
        self.invocation()
            .args(["create", "cluster", "--name", name, "--config"])
            .arg(config.display().to_string())
            .arg("--wait")
            .arg(format!("{}s", wait.as_secs()))
            .timeout(wait + Self::CREATE_MARGIN)
            .run()
            .await?;
        Ok(())
    }

    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        self.invocation().args(["delete", "cluster", "--name", name]).timeout(Duration::from_secs(180)).run().await?;
        Ok(())
    }

    pub async fn load_image(&self, cluster: &str, image: &str) -> Result<(), Error> {
        self.invocation()
            .args(["load", "docker-image", image, "--name", cluster])
            .timeout(Duration::from_secs(900))
            .run()
            .await?;
        Ok(())
    }
}

/// `kind v0.27.0 go1.23.4 linux/amd64` → `v0.27.0`
pub fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| word.starts_with('v') && word[1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version() {
        assert_eq!(super::parse_version("kind v0.27.0 go1.23.4 linux/amd64\n").as_deref(), Some("v0.27.0"));
        assert_eq!(super::parse_version("kind version 0.8"), None);
    }
}
