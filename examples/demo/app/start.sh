#!/bin/sh
# Start the demo backend: the Python server when the image has python3, otherwise
# (busybox-only base images, as in ohdev's tests) busybox httpd serving the same static
# site, with static /health and /alive files and a CGI script for /cgi-bin/info.
set -eu

port="${PORT:-3000}"
if command -v python3 >/dev/null 2>&1; then
    cd "$(dirname "$0")"
    exec python3 -m server
fi

printf 'start: no python3 in this image, serving %s with busybox httpd on port %s\n' \
    "${DEMO_WEB_ROOT:-/srv/www}" "$port" >&2
exec busybox httpd -f -v -p "$port" -h "${DEMO_WEB_ROOT:-/srv/www}" -c /srv/httpd.conf
