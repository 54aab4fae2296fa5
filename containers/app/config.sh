# shellcheck shell=sh
# Where the app image is published (sourced by release scripts and CI; ohdev itself tags
# images ohdev.local/app:<digest> and loads them into kind without a registry).
# Each value can be overridden from the environment.
export DOCKER_REGISTRY="${DOCKER_REGISTRY:-ghcr.io}"
export DOCKER_ORG="${DOCKER_ORG:-all-hands-ai}"
export DOCKER_IMAGE="${DOCKER_IMAGE:-openhands}"
# Build context relative to the OpenHands checkout, and the Dockerfile prebuild.sh stages.
export DOCKER_BASE_DIR="${DOCKER_BASE_DIR:-.}"
export DOCKER_FILE="${DOCKER_FILE:-build/ohdev/app/Dockerfile}"
