#!/usr/bin/env python3
"""A webhook receiver for the notification tests, on loopback.

    http-receiver.py DIR

Listens on 127.0.0.1 on a free port, writes the port to DIR/port, and
for every request appends one JSON line {"method", "path", "headers",
"body"} to DIR/requests. How it answers is read from DIR/mode at each
request: "ok" (default, 204), "fail" (500) or "hang" (never answers;
the request is recorded first). Runs until killed."""
import http.server
import json
import os
import sys
import threading
import time

DIR = sys.argv[1]
lock = threading.Lock()


def mode():
    try:
        with open(os.path.join(DIR, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        rec = {"method": "POST", "path": self.path, "headers": dict(self.headers.items()), "body": body}
        with lock, open(os.path.join(DIR, "requests"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        m = mode()
        if m == "hang":
            time.sleep(3600)
            return
        self.send_response(500 if m == "fail" else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
