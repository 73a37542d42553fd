#!/usr/bin/env python3
"""Seeded hostile requests against a running server, as one anonymous client could send
them: fragment spreads that multiply (random fan-out and depth, over HTTP), many aliases
of large fields, the largest pages of every surface (RPDE from random positions, GraphQL
pages with geometry, Open Referral lists of 500, tiles at every zoom), bursts of them at
once, and clients that ask and never read. A failure is a 5xx, an error without a code,
an answer slower than the request timeout, or the server's memory growing past a bound
(its RSS read from /proc when it runs here).

    hostile.py http://127.0.0.1:PORT [--seed N] [--cases N] [--pid PID] [--max-rss-mb N]
"""

import argparse
import json
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request


def request(base, path, body=None, timeout=35):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data,
                                 headers={"content-type": "application/json"} if data else {})
    started = time.time()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, text, time.time() - started


def spreads(rng):
    times, count = rng.randrange(2, 60), rng.randrange(2, 9)
    kind = rng.choice(["Query", "Query"])
    q = "{ ...F0 } " + " ".join(
        "fragment F%d on %s { __typename %s }" % (i, kind, " ".join(["...F%d" % (i + 1)] * times) if i < count - 1 else "")
        for i in range(count))
    return {"query": q}


def aliases(rng):
    n = rng.randrange(10, 60)
    field = rng.choice(["geometry", "history { changes { before after } }", "name"])
    picks = " ".join(f"a{i}: assetsInBBox(bbox: {{minLon: -2.7, minLat: 53.3, maxLon: -1.9, maxLat: 53.7}}, "
                     f"first: {rng.choice([1, 20, 100])}) {{ edges {{ node {{ {field} }} }} }}" for i in range(n))
    return {"query": "{ " + picks + " }"}


def viewport(rng):
    lon, lat = rng.uniform(-2.7, -2.0), rng.uniform(53.35, 53.65)
    d = rng.choice([0.01, 0.1, 0.5, 1.2])
    return {"query": "query($b: BBoxInput!) { assetsInBBox(bbox: $b, first: 100) { edges { node { id geometry "
                     "history { changes { field before after } } } } pageInfo { hasNextPage endCursor } } }",
            "variables": {"b": {"minLon": lon - d, "minLat": lat - d, "maxLon": lon + d, "maxLat": lat + d}}}


def case(rng, base):
    roll = rng.randrange(6)
    if roll == 0:
        return request(base, "/graphql", spreads(rng))
    if roll == 1:
        return request(base, "/graphql", aliases(rng))
    if roll == 2:
        return request(base, "/graphql", viewport(rng))
    if roll == 3:
        return request(base, f"/feeds/assets?afterChangeNumber={rng.randrange(0, 5000)}")
    if roll == 4:
        path = rng.choice(["services", "service_at_locations"])
        return request(base, f"/oruk/{path}?per_page=500&page={rng.randrange(1, 4)}")
    z = rng.randrange(0, 17)
    n = 2 ** z
    return request(base, f"/tiles/{z}/{rng.randrange(n)}/{rng.randrange(n)}.mvt")


def check(status, text, seconds, what, problems):
    if status is None or status >= 500:
        problems.append(f"{what}: status {status}")
        return
    if seconds > 31:
        problems.append(f"{what}: answered after {seconds:.1f} s")
    if status >= 400 or text.startswith(b'{"errors"') or b'"errors":' in text[:200]:
        try:
            errors = json.loads(text).get("errors") or []
        except ValueError:
            problems.append(f"{what}: a {status} that is not JSON")
            return
        for e in errors:
            code = (e.get("extensions") or {}).get("code")
            if code in (None, "INTERNAL"):
                problems.append(f"{what}: error with code {code}: {e.get('message')}")


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def never_reads(base, paths):
    """Clients that send a request for a large page and never read the answer."""
    host, port = base.split("//")[1].split(":")
    sockets = []
    for path in paths:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((host, int(port)))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        sockets.append(s)
    return sockets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--max-rss-mb", type=float, default=600)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    problems = []
    peak = 0.0
    for n in range(args.cases):
        status, text, seconds = case(rng, args.base)
        check(status, text, seconds, f"case {n}", problems)
    # bursts: 16 at once of the same seeded cases
    for burst in range(3):
        seeds = [rng.random() for _ in range(16)]
        results = []
        threads = [threading.Thread(target=lambda s=s: results.append(case(random.Random(s), args.base))) for s in seeds]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            if args.pid:
                peak = max(peak, rss_mb(args.pid) or 0)
            time.sleep(0.05)
        for i, (status, text, seconds) in enumerate(results):
            check(status, text, seconds, f"burst {burst} #{i}", problems)
    stalled = never_reads(args.base, ["/feeds/assets", "/oruk/services?per_page=500", "/tiles/10/511/340.mvt"] * 4)
    status, text, seconds = request(args.base, "/graphql", {"query": "{ __typename }"})
    check(status, text, seconds, "a request beside clients that never read", problems)
    for s in stalled:
        s.close()
    if args.pid and peak > args.max_rss_mb:
        problems.append(f"the server's RSS reached {peak:.0f} MB (bound {args.max_rss_mb:.0f})")
    print(f"hostile: {args.cases} cases and 3 bursts of 16, peak RSS {peak:.0f} MB, {len(problems)} problems")
    for p in problems[:20]:
        print(f"hostile: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
