"""Backend of the ohdev demo: the static site plus /alive, /health and /api/info.

Standard library only. Run with `python3 -m server` from this directory.
"""

import json
import os
import platform
import signal
import socket
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.time()
QUIET_PATHS = {"/alive", "/health"}


def info():
    return {
        "app": "ohdev-demo",
        "backend": "python",
        "version": os.environ.get("DEMO_VERSION", "dev"),
        "message": os.environ.get("DEMO_MESSAGE", "hello from the ohdev demo"),
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "uptime_seconds": round(time.time() - STARTED, 1),
    }


class Handler(SimpleHTTPRequestHandler):
    server_version = "ohdev-demo"
    sys_version = ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/alive":
            self._send(200, "text/plain; charset=utf-8", b"ok\n")
        elif path == "/health":
            self._send_json({"status": "ok"})
        elif path == "/api/info":
            self._send_json(info())
        elif path.startswith("/cgi-bin/"):
            # Only the busybox fallback runs CGI scripts.
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
        else:
            super().do_GET()

    def _send_json(self, value):
        body = (json.dumps(value, indent=2) + "\n").encode()
        self._send(200, "application/json", body)

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        # Kubernetes probes every few seconds: keep them out of the log.
        if self.path.split("?", 1)[0] in QUIET_PATHS and str(code) == "200":
            return
        super().log_request(code, size)


def main():
    port = int(os.environ.get("PORT", "3000"))
    web_root = os.environ.get("DEMO_WEB_ROOT", "/srv/www")
    server = ThreadingHTTPServer(("0.0.0.0", port), partial(Handler, directory=web_root))
    server.daemon_threads = True

    def stop(signum, _frame):
        print(f"server: signal {signum}, shutting down", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"server: serving {web_root} on port {port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
