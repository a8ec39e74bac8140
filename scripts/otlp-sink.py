#!/usr/bin/env python3
"""A minimal OTLP/HTTP receiver for benchmarks: accepts POST /v1/traces, counts the requests and
bytes, and answers 200 with an empty ExportTraceServiceResponse without decoding anything.

Usage: python3 scripts/otlp-sink.py PORT   (prints the totals on SIGINT/SIGTERM)
Then:  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT orchestrator-dynamic bench engine …
"""

import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

totals = {"requests": 0, "bytes": 0}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        totals["requests"] += 1
        totals["bytes"] += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)

    def stop(*_):
        print(f"otlp-sink: {totals['requests']} requests, {totals['bytes']} bytes", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
