#!/usr/bin/env bash
# The whole test suite: formatting, clippy with -D warnings, no import cycle between src/ modules,
# unit and integration tests (real Docker engine, kind/kubectl stand-ins), the real-kubectl argument
# check, the asset checks (kubernetes-validate, hadolint, shellcheck, docker-compose config) and a
# fuzz smoke run of every parser.
# Installs what it needs; never silently skips the Docker tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export OHDEV_REQUIRE_DOCKER=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# A static busybox makes the local base image (no registry here).
if [ ! -x /bin/busybox ] && [ ! -x /usr/bin/busybox ]; then
    echo "test.sh: installing busybox-static (base image for Docker tests)"
    apt_install busybox-static
fi

# Headless Chromium drives the dashboard's page in tests/integration/dashboard.rs.
if ! command -v chromium >/dev/null 2>&1; then
    echo "test.sh: installing chromium (the dashboard's browser test)"
    apt_install chromium
fi

# Debian's docker-registry (the CNCF distribution registry) is the real registry the tests push to.
if [ ! -x /usr/bin/docker-registry ]; then
    echo "test.sh: installing docker-registry (a real registry for the registry tests)"
    apt_install docker-registry
fi

# apache2-utils' htpasswd makes the bcrypt htpasswd file of the registry-with-login tests.
if ! command -v htpasswd >/dev/null 2>&1; then
    echo "test.sh: installing apache2-utils (htpasswd, for the registry login tests)"
    apt_install apache2-utils
fi

# openssl makes the private CA and the server certificate of the HTTPS registry test.
if ! command -v openssl >/dev/null 2>&1; then
    echo "test.sh: installing openssl (certificates for the HTTPS registry test)"
    apt_install openssl
fi

# curl fetches remote manifest bundles (the tests serve them on loopback).
if ! command -v curl >/dev/null 2>&1; then
    echo "test.sh: installing curl"
    apt_install curl
fi

# docker-compose validates the compose files.
if ! command -v docker-compose >/dev/null 2>&1; then
    echo "test.sh: installing docker-compose"
    apt_install docker-compose
fi

# A Docker daemon must answer: start one if none does.
docker_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_up; then
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "test.sh: installing docker.io"
        apt_install docker.io
    fi
    if ! docker_up; then
        echo "test.sh: starting dockerd"
        as_root sh -c 'nohup dockerd >/tmp/ohdev-dockerd.log 2>&1 &'
        for _ in $(seq 1 60); do docker_up && break; sleep 1; done
        docker_up || { echo "test.sh: dockerd did not start; see /tmp/ohdev-dockerd.log" >&2; exit 1; }
    fi
fi

if ! command -v kubectl >/dev/null 2>&1; then
    echo "test.sh: the real kubectl is needed for the argument check; install it (https://kubernetes.io/docs/tasks/tools/)" >&2
    exit 1
fi

# Hygiene first: it fails fast and needs no Docker.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    echo "test.sh: installing rustfmt and clippy"
    rustup component add rustfmt clippy
fi
cargo fmt --all --check
python3 scripts/module-cycles.py
cargo clippy --workspace --all-targets --quiet -- -D warnings

rm -f target/debug/ohdev-kubectl-argvs.jsonl
cargo build --quiet -p fake-kube
cargo test --workspace --no-fail-fast
cargo test --test integration -- --ignored kubectl_argv_accepted_by_real_kubectl

if [ -x scripts/asset-checks.sh ]; then
    scripts/asset-checks.sh
fi

# Every parser under cargo-fuzz for a few seconds each (skipped, saying why, without nightly).
scripts/fuzz-smoke.sh
echo "test.sh: all checks passed"
