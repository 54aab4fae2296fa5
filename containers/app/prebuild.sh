#!/bin/sh
# Stage this directory's Dockerfile and entrypoint.sh into an OpenHands checkout, the
# build context of the app image: <checkout>/build/ohdev/app/ (`build/` is git-ignored
# by OpenHands). ohdev runs this as the `prebuild:` of the `app` image, in the context
# directory; by hand: containers/app/prebuild.sh [OPENHANDS_CHECKOUT]
set -eu

src_dir="$(cd "$(dirname "$0")" && pwd)"
checkout="${1:-.}"

if [ ! -f "$checkout/pyproject.toml" ] || [ ! -d "$checkout/openhands" ] || [ ! -d "$checkout/frontend" ]; then
    printf 'prebuild: %s does not look like an OpenHands checkout (no pyproject.toml, openhands/, frontend/)\n' \
        "$(cd "$checkout" && pwd)" >&2
    exit 1
fi

dest="$checkout/build/ohdev/app"
mkdir -p "$dest"
# Copy only when the content differs, so an unchanged file keeps its mtime.
for name in Dockerfile entrypoint.sh; do
    if ! cmp -s "$src_dir/$name" "$dest/$name"; then
        cp "$src_dir/$name" "$dest/$name.tmp"
        mv "$dest/$name.tmp" "$dest/$name"
    fi
done
chmod 0644 "$dest/Dockerfile"
chmod 0755 "$dest/entrypoint.sh"
