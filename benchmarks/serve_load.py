"""Load test of ``htr-desktop serve``: N requests, C at a time, on loopback; latency percentiles.

Usage: python -m benchmarks.serve_load [--requests 200] [--concurrency 16] [--exe dist/htr-desktop/htr-desktop]
Each request posts one held-back IAM line (benchmarks.data, cycling through 100) with ``layout=line``.
Writes the "serve" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from benchmarks.data import held_back_lines
from benchmarks.report import load_note, machine, write_section


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--exe", help="the packaged executable instead of `python -m htr_desktop`")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    bodies = [path.read_bytes() for path, _ in held_back_lines(100)]
    exe = [args.exe] if args.exe else [sys.executable, "-m", "htr_desktop"]
    t0 = time.perf_counter()
    proc = subprocess.Popen([*exe, "serve"], stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        ready_s = time.perf_counter() - t0
        url = urlsplit(first["url"])
        headers = {"Authorization": f"Bearer {first['token']}", "Content-Type": "application/octet-stream"}

        def post(i: int) -> tuple[float, int]:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
            t = time.perf_counter()
            conn.request("POST", "/recognize?layout=line", body=bodies[i % len(bodies)], headers=headers)
            resp = conn.getresponse()
            ok = resp.status == 200 and "text" in json.loads(resp.read())
            conn.close()
            return time.perf_counter() - t, 0 if ok else resp.status

        post(0)  # warm up
        t = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as ex:
            results = list(ex.map(post, range(args.requests)))
        wall = time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(30)
    lat = [1000 * r[0] for r in results]
    errors = sum(1 for r in results if r[1])
    note = load_note()
    cells = [str(args.requests), str(errors), f"{args.requests / wall:.1f} req/s",
             *(f"{percentile(lat, q):.0f} ms" for q in (50, 90, 99)), f"{max(lat):.0f} ms", f"{ready_s:.2f} s"]
    row = "| " + " | ".join(cells) + " |"
    body = f"""## Local API under load (`python -m benchmarks.serve_load{' --exe ' + args.exe if args.exe else ''}`)

{machine()}; `htr-desktop serve` (waitress, one recognizer process per core) on loopback; {args.requests} requests
of held-back IAM line images (`POST /recognize?layout=line`, raw body), {args.concurrency} at a time. {note}.

| requests | errors | throughput | p50 | p90 | p99 | max | server start to URL printed |
|---|---|---|---|---|---|---|---|
{row}

Mean latency {statistics.fmean(lat):.0f} ms. Latency includes queueing: {args.concurrency} clients share the cores.
"""
    print(body)
    if not args.no_write:
        write_section("serve", body)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
