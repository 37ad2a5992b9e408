"""A counting proxy in front of Prometheus, for benchmarks: forwards every request, asks each
query for its statistics (`stats=all`) and adds up the samples Prometheus processed
(`totalQueryableSamples`, what a managed Prometheus bills) and the points it returned.

    python3 scripts/stats-proxy.py PROMETHEUS_URL PORT

`GET /proxy-stats` answers {"samples": …, "points": …, "queries": …} since the start.
"""

import json
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = sys.argv[1].rstrip("/")
TOTALS = {"samples": 0, "points": 0, "queries": 0}
LOCK = threading.Lock()


def with_stats(query_string):
    pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
    pairs = [(k, v) for k, v in pairs if k != "stats"] + [("stats", "all")]
    return urllib.parse.urlencode(pairs)


class Proxy(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def forward(self, body):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/proxy-stats":
            with LOCK:
                self.answer(200, "application/json", json.dumps(TOTALS).encode())
            return
        querying = url.path.startswith("/api/v1/query")
        query = with_stats(url.query) if querying and body is None else url.query
        if querying and body is not None:
            body = with_stats(body.decode()).encode()
        request = urllib.request.Request(
            UPSTREAM + url.path + ("?" + query if query else ""),
            data=body,
            method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, content_type, payload = response.status, response.headers.get("Content-Type"), response.read()
        except urllib.error.HTTPError as error:
            status, content_type, payload = error.code, error.headers.get("Content-Type"), error.read()
        if querying and status == 200:
            data = json.loads(payload).get("data", {})
            samples = data.get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0)
            points = sum(len(s.get("values", [])) or 1 for s in data.get("result", []))
            with LOCK:
                TOTALS["samples"] += samples
                TOTALS["points"] += points
                TOTALS["queries"] += 1
        self.answer(status, content_type or "application/json", payload)

    def answer(self, status, content_type, payload):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        self.forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Proxy).serve_forever()
