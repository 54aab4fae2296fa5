#!/bin/sh
# Generate the build context of the OpenHands sandbox runtime image in the current
# directory (containers/runtime/build when ohdev runs it as the `prebuild:` of the
# `runtime` image): the Dockerfile OpenHands renders from
# openhands/runtime/utils/runtime_templates/Dockerfile.j2 and code/, a source
# distribution of the OpenHands checkout.
#
# Environment:
#   OPENHANDS_ROOT                the checkout (default ../OpenHands; relative paths are
#                                 taken from the ohdev repository root, like ohdev.yaml)
#   OPENHANDS_RUNTIME_BASE_IMAGE  base image of the sandbox
#                                 (default nikolaik/python-nodejs:python3.12-nodejs22)
# The generator runs in the checkout's Poetry environment (`poetry install` there first);
# without Poetry it falls back to python3, which must then have OpenHands' dependencies.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
ohdev_root="$(cd "$here/../.." && pwd)"
root="${OPENHANDS_ROOT:-../OpenHands}"
case "$root" in
    /*) ;;
    *) root="$ohdev_root/$root" ;;
esac
if [ ! -f "$root/openhands/runtime/utils/runtime_build.py" ]; then
    printf 'prebuild: %s does not look like an OpenHands checkout (no openhands/runtime/utils/runtime_build.py); set OPENHANDS_ROOT\n' \
        "$root" >&2
    exit 1
fi
base_image="${OPENHANDS_RUNTIME_BASE_IMAGE:-nikolaik/python-nodejs:python3.12-nodejs22}"

out="$(pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM

if command -v poetry >/dev/null 2>&1; then
    set -- poetry run python
else
    set -- python3
fi

# --build_folder: only write the Dockerfile and code/ (no image build);
# --force_rebuild: always render from the base image, even when a runtime image with the
# same source hash already exists locally (otherwise the folder would stay empty).
(
    cd "$root"
    "$@" -m openhands.runtime.utils.runtime_build \
        --base_image "$base_image" --build_folder "$tmp" --force_rebuild
)

if [ ! -f "$tmp/Dockerfile" ] || [ ! -d "$tmp/code" ]; then
    printf 'prebuild: runtime_build.py produced no Dockerfile/code in %s\n' "$tmp" >&2
    exit 1
fi
# Replace, never merge: files deleted from the checkout must leave the image too.
rm -rf "$out/code" "$out/Dockerfile"
cp -R "$tmp/code" "$out/code"
cp "$tmp/Dockerfile" "$out/Dockerfile"
printf 'prebuild: runtime build context ready in %s (base image %s)\n' "$out" "$base_image" >&2
