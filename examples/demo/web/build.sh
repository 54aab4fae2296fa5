#!/bin/sh
# Build the demo's static site: build.sh VERSION OUT_DIR
# Writes OUT_DIR/www (page, health/alive files, api/info, a CGI script) and
# OUT_DIR/httpd.conf (used only by the busybox httpd fallback of start.sh).
set -eu

version="${1:-dev}"
out="${2:-/out}"
src="$(cd "$(dirname "$0")" && pwd)"

case "$version" in
    '' | *[!A-Za-z0-9._-]*)
        printf 'build.sh: version must match [A-Za-z0-9._-]+, got %s\n' "$version" >&2
        exit 2
        ;;
esac

mkdir -p "$out/www/api" "$out/www/cgi-bin"
sed "s/@VERSION@/${version}/g" "$src/index.html.in" >"$out/www/index.html"
printf 'ok\n' >"$out/www/health"
printf 'ok\n' >"$out/www/alive"
printf '{"app": "ohdev-demo", "backend": "static", "version": "%s"}\n' "$version" >"$out/www/api/info"
sed "s/@VERSION@/${version}/g" "$src/info.cgi.in" >"$out/www/cgi-bin/info"
cp "$src/httpd.conf" "$out/httpd.conf"

chmod -R a+rX "$out"
chmod 0755 "$out/www/cgi-bin/info"
