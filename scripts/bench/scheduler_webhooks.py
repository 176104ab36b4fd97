#!/usr/bin/env python3
"""Webhook receiver and delivery statistics for scripts/bench/scheduler (stdlib only).

    scheduler_webhooks.py serve HOST PORT LOG     answer every POST 200 at once and append one
                                                  line per delivery to LOG:
                                                  receive_epoch <TAB> incident.deadline <TAB>
                                                  delivery_id <TAB> type <TAB> incident.id
                                                  (GET answers 200 too: the readiness probe)
    scheduler_webhooks.py stats LOG IDS_OUT       print "@key=value" lines (latency from the
                                                  missed deadline to receipt, duplicates) and
                                                  write the distinct delivery ids to IDS_OUT

The receive time is taken when the request's headers have been read, before the body is parsed,
with the same wall clock Postgres uses on this machine.
"""

import json
import re
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(host, port, path):
    out = open(path, "a", buffering=1, encoding="utf-8")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the notifier's client pools connections

        def do_POST(self):
            received = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                doc = json.loads(body or b"{}")
            except ValueError:
                doc = {}
            incident = doc.get("incident") or {}
            delivery = doc.get("delivery_id") or self.headers.get("Lifeline-Delivery") or "-"
            line = "%.6f\t%s\t%s\t%s\t%s\n" % (
                received,
                incident.get("deadline") or "-",
                delivery,
                doc.get("type") or "-",
                incident.get("id") or "-",
            )
            with lock:
                out.write(line)

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server((host, int(port)), Handler)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_rfc3339(s):
    m = RFC3339.match(s)
    if not m:
        return None
    base, frac, tz = m.groups()
    tz = "+00:00" if tz == "Z" else tz
    t = datetime.fromisoformat(base + tz).timestamp()
    return t + (float(frac) if frac else 0.0)


def percentile_cont(sorted_values, q):
    """Like Postgres percentile_cont: linear interpolation between the closest ranks."""
    if not sorted_values:
        return float("nan")
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def stats(path, ids_out):
    lines = 0
    unparsable = 0
    by_delivery = {}
    by_incident = {}
    latencies = []
    other_types = 0
    with open(path, encoding="utf-8") as f:
        for raw in f:
            parts = raw.rstrip("\n").split("\t")
            if len(parts) != 5:
                unparsable += 1
                continue
            lines += 1
            received, deadline, delivery, kind, incident = parts
            if kind != "heartbeat.down":
                other_types += 1
            by_delivery[delivery] = by_delivery.get(delivery, 0) + 1
            by_incident[incident] = by_incident.get(incident, 0) + 1
            if by_delivery[delivery] > 1:
                continue  # latency of the first receipt of each delivery only
            d = parse_rfc3339(deadline)
            if d is None:
                unparsable += 1
                continue
            latencies.append((float(received) - d) * 1000.0)
    latencies.sort()
    with open(ids_out, "w", encoding="utf-8") as f:
        for delivery in by_delivery:
            f.write(delivery + "\n")
    fmt = lambda v: "%.0f" % v if v == v else "-"
    result = {
        "received": lines,
        "distinct_deliveries": len(by_delivery),
        "duplicate_receipts": lines - len(by_delivery),
        "distinct_incidents": len(by_incident),
        "incidents_alerted_more_than_once": sum(1 for n in by_incident.values() if n > 1),
        "other_types": other_types,
        "unparsable": unparsable,
        "p50_ms": fmt(percentile_cont(latencies, 0.5)),
        "p99_ms": fmt(percentile_cont(latencies, 0.99)),
        "max_ms": fmt(latencies[-1]) if latencies else "-",
        "min_ms": fmt(latencies[0]) if latencies else "-",
    }
    for k in sorted(result):
        print("@%s=%s" % (k, result[k]))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "stats":
        stats(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
