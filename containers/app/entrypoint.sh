#!/bin/sh
# Entrypoint of the OpenHands app image (containers/app/Dockerfile).
#
# The image runs as the unprivileged user `openhands` (uid 42420): on Kubernetes and in
# docker-compose.yml this script only execs the command. If the container is started as
# root (e.g. `docker run --user 0`), it never runs the app as root: it maps
# SANDBOX_USER_ID (the host user whose files the docker runtime's workspace holds) to a
# user in the image, gives that user the file store and home, and drops to it with
# setpriv (util-linux; no sudo, no su). Without SANDBOX_USER_ID, or with 0, it drops to
# the image's own `openhands` user.
set -eu

log() {
    printf 'entrypoint: %s\n' "$*" >&2
}

if [ "$#" -eq 0 ]; then
    set -- uvicorn openhands.server.listen:app --host 0.0.0.0 --port 3000
fi

current_uid="$(id -u)"
if [ "$current_uid" -ne 0 ]; then
    if [ -n "${SANDBOX_USER_ID:-}" ] && [ "${SANDBOX_USER_ID}" != "$current_uid" ]; then
        log "not started as root (uid $current_uid): SANDBOX_USER_ID=${SANDBOX_USER_ID} is not mapped"
    fi
    exec "$@"
fi

app_uid="${OPENHANDS_USER_ID:-42420}"
target_uid="${SANDBOX_USER_ID:-0}"
case "$target_uid" in
    '' | *[!0-9]*)
        log "SANDBOX_USER_ID must be a number, got '${target_uid}'"
        exit 64
        ;;
esac
if [ "$target_uid" -eq 0 ]; then
    log "refusing to run the app as root: dropping to uid ${app_uid}"
    target_uid="$app_uid"
fi
target_gid="$(getent group openhands | cut -d: -f3)"

if ! getent passwd "$target_uid" >/dev/null 2>&1; then
    user_name=enduser
    if getent passwd "$user_name" >/dev/null 2>&1; then
        user_name="enduser-${target_uid}"
    fi
    log "creating user ${user_name} with uid ${target_uid}"
    useradd --no-log-init --uid "$target_uid" --gid "$target_gid" \
        --home-dir /home/openhands --no-create-home --shell /usr/sbin/nologin "$user_name"
fi

# What the app writes: its home (caches, ~/.openhands) and the file store.
for dir in /home/openhands "${FILE_STORE_PATH:-/data/file_store}"; do
    mkdir -p "$dir"
    chown "${target_uid}:${target_gid}" "$dir"
done

# The docker runtime (docker-compose.yml) needs the Docker socket's group.
extra_groups="$target_gid"
if [ -S /var/run/docker.sock ]; then
    socket_gid="$(stat -c '%g' /var/run/docker.sock)"
    extra_groups="${extra_groups},${socket_gid}"
fi

log "running as uid ${target_uid}"
exec setpriv --reuid="$target_uid" --regid="$target_gid" --groups="$extra_groups" \
    --no-new-privs -- "$@"
