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
#
# Dev mode (OHDEV_DEV_MODE=1, set by the `dev:` patch of ohdev.yaml): the server runs as a
# child of this script, which stays PID 1, and SIGHUP restarts the server process, not the
# container. `ohdev up --watch` copies changed openhands/**/*.py into the writable source
# volume, then runs `kill -HUP 1` (the `run:` of the sync rule): the server is stopped
# (SIGTERM; SIGKILL after OHDEV_RESTART_GRACE seconds, default 10) and started again from the
# synced sources. A signal needs no writable file, so it works with the read-only root
# filesystem, and it comes once per sync, after every file of the batch is in place (uvicorn's
# --reload would restart on the first file of a batch, watch all of /app and, with its polling
# reloader, miss a second edit of a file: ohdev's sync archive gives every file the same fixed
# timestamp). A server that exits by itself is not
# restarted in a loop: the script says so and waits for the next SIGHUP (the sync of the fix),
# so the container, its volumes and the synced sources stay. SIGTERM or SIGINT stops the
# server and ends the container with the server's status.
set -eu

log() {
    printf 'entrypoint: %s\n' "$*" >&2
}

if [ "$#" -eq 0 ]; then
    set -- uvicorn openhands.server.listen:app --host 0.0.0.0 --port 3000
fi

# stop_server PID: SIGTERM, then SIGKILL if it is still running after the grace period.
stop_server() {
    server_pid="$1"
    grace="${OHDEV_RESTART_GRACE:-10}"
    kill -TERM "$server_pid" 2>/dev/null || true
    # The watchdog ends by itself within a second of the server's exit.
    (
        waited=0
        while kill -0 "$server_pid" 2>/dev/null; do
            if [ "$waited" -ge "$grace" ]; then
                printf 'entrypoint: dev mode: the server (pid %s) did not stop within %ss: killing it\n' \
                    "$server_pid" "$grace" >&2
                kill -KILL "$server_pid" 2>/dev/null || true
                exit 0
            fi
            sleep 1
            waited=$((waited + 1))
        done
    ) &
    # `wait` returns early when another signal arrives; wait again until the server is gone.
    server_status=0
    while kill -0 "$server_pid" 2>/dev/null; do
        wait "$server_pid" || server_status=$?
    done
}

# supervise CMD...: run CMD, restart it on SIGHUP, stop it and return on SIGTERM/SIGINT.
supervise() {
    restart_requested=0
    stop_requested=0
    trap 'restart_requested=1' HUP
    trap 'stop_requested=1' TERM INT
    while :; do
        restart_requested=0
        "$@" &
        server_pid=$!
        log "dev mode: server started (pid ${server_pid}); \`kill -HUP 1\` restarts it"
        server_status=0
        while kill -0 "$server_pid" 2>/dev/null; do
            if [ "$restart_requested" -eq 1 ] || [ "$stop_requested" -eq 1 ]; then
                log "dev mode: stopping the server (pid ${server_pid})"
                stop_server "$server_pid"
                break
            fi
            # Returns with the server's status, or early (above 128) when a signal arrives.
            wait "$server_pid" || server_status=$?
        done
        if [ "$stop_requested" -eq 1 ]; then
            return "$server_status"
        fi
        if [ "$restart_requested" -eq 0 ]; then
            log "dev mode: the server exited with status ${server_status}; waiting for a change to restart it (\`kill -HUP 1\`)"
            while [ "$restart_requested" -eq 0 ] && [ "$stop_requested" -eq 0 ]; do
                sleep 1 &
                wait "$!" || true
            done
            if [ "$stop_requested" -eq 1 ]; then
                return "$server_status"
            fi
        fi
        log "dev mode: restarting the server"
    done
}

# run_server CMD...: the server as PID 1 (production), or under the dev-mode supervisor.
run_server() {
    if [ "${OHDEV_DEV_MODE:-0}" = 1 ]; then
        supervise "$@"
        exit "$?"
    fi
    exec "$@"
}

current_uid="$(id -u)"
if [ "$current_uid" -ne 0 ]; then
    if [ -n "${SANDBOX_USER_ID:-}" ] && [ "${SANDBOX_USER_ID}" != "$current_uid" ]; then
        log "not started as root (uid $current_uid): SANDBOX_USER_ID=${SANDBOX_USER_ID} is not mapped"
    fi
    run_server "$@"
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
run_server setpriv --reuid="$target_uid" --regid="$target_gid" --groups="$extra_groups" \
    --no-new-privs -- "$@"
