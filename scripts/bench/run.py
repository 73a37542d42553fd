#!/usr/bin/env python3
"""Spatial search at scale: Assetmap against the raw-SQL floor, on both backends.

    python3 scripts/bench/run.py [--sizes 10000,100000,1000000] [--backends sqlite,postgres]
                                 [--duration 10] [--connections 16] [--seed 42]
                                 [--subscriptions 100,1000] [--writes 200] [--every-ms 25]

For each size it generates a deterministic synthetic region around Greater Manchester's
town centres (70% points, 20% polygons, 10% lines, 12 categories), loads it with
`assetmap import` (the product's own import path), starts the release server and drives it
over HTTP with wrk for a link worker's nearbyAssets (1 km, kinds [COMMUNITY_GROUP],
first 20, distanceMeters and id/name/kind), a map viewport assetsInBBox (about 1 km
square, first 100, with geometry) and a corridor assetsIntersecting (a 500 m hexagon):
once with 16 connections (requests per second, p50/p99) and once with a single
connection (p50, the latency of one search). Beside them it runs `{ __typename }` the
same two ways: the GraphQL and HTTP layer's own ceiling on this machine, and fetches the
vector tiles under the query points at zooms 10 and 14 (req/s, p50/p99, tile bytes, and the first,
uncached request for each distinct tile). It reports the
server's start-up time to ready and its peak RSS, runs the same nearby search as plain
SQL with pgbench on the same PostGIS data (ST_DWithin on geography with a GiST index,
ORDER BY ST_Distance LIMIT 20) as the floor, prints our rate as a ratio of the floor and
of the ceiling, and at 100k compares the two backends' nearby answers. Then the live run: N
subscribers (100, 1000) on one PostGIS replica while writes go through another, reporting
each write's delivery latency (p50/p99) and the replica's memory per subscriber.

The server runs with its default settings and RUST_LOG=warn.
Needs PostgreSQL with PostGIS running (scripts/test sets both up), wrk and pgbench
(installed from Debian's packages if missing). Only talks to 127.0.0.1. Results go to
target/bench/report.json as well.
"""

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "target", "bench")
BINARY = os.path.join(ROOT, "target", "release", "assetmap")
PG_ADMIN = os.environ.get("ASSETMAP_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")

TOWNS = [  # (lon, lat): Greater Manchester's town centres
    (-2.2426, 53.4808), (-2.2931, 53.4875), (-2.4282, 53.5769), (-2.2969, 53.5933),
    (-2.1561, 53.6097), (-2.1183, 53.5409), (-2.1575, 53.4106), (-2.6325, 53.5450),
    (-2.3521, 53.3838), (-2.0986, 53.4880),
]
BOUNDS = (-2.73, 53.33, -1.91, 53.69)
CATEGORIES = ["walking", "cycling", "swimming", "sport", "lunch-clubs", "befriending",
              "mental-wellbeing", "money-and-debt-advice", "food-banks", "carers",
              "libraries", "volunteering"]
M_LAT = 111_250.0
M_LON = 111_320.0 * math.cos(math.radians(53.5))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def place(rng):
    if rng.random() < 0.7:
        lon, lat = rng.choice(TOWNS)
        return lon + rng.gauss(0, 2500) / M_LON, lat + rng.gauss(0, 2500) / M_LAT
    return rng.uniform(BOUNDS[0], BOUNDS[2]), rng.uniform(BOUNDS[1], BOUNDS[3])


def r6(x):
    return round(x, 6)


def feature(i, rng):
    lon, lat = place(rng)
    roll = rng.random()
    if roll < 0.7:
        kind = rng.choice(["COMMUNITY_GROUP", "CHARITY", "SERVICE", "VENUE", "ACTIVITY"])
        geometry = {"type": "Point", "coordinates": [r6(lon), r6(lat)]}
    elif roll < 0.9:
        kind = rng.choice(["PARK", "GREEN_SPACE"])
        n = rng.randint(5, 40)
        radius = rng.uniform(25, 400)
        ring = []
        for v in range(n):
            a = (v + rng.uniform(0.1, 0.9)) / n * 2 * math.pi
            r = radius * rng.uniform(0.6, 1.0)
            ring.append([r6(lon + r * math.cos(a) / M_LON), r6(lat + r * math.sin(a) / M_LAT)])
        ring.append(ring[0])
        geometry = {"type": "Polygon", "coordinates": [ring]}
    else:
        kind = rng.choice(["CYCLE_PATH", "WALKING_ROUTE"])
        n = rng.randint(10, 200)
        step = rng.uniform(500, 10_000) / (n - 1)
        heading = rng.uniform(0, 2 * math.pi)
        x, y = lon, lat
        line = [[r6(x), r6(y)]]
        for _ in range(n - 1):
            heading += rng.uniform(-0.3, 0.3)
            x += step * math.cos(heading) / M_LON
            y += step * math.sin(heading) / M_LAT
            line.append([r6(x), r6(y)])
        geometry = {"type": "LineString", "coordinates": line}
    cats = rng.sample(CATEGORIES, rng.choice([1, 1, 2]))
    return {"type": "Feature", "geometry": geometry,
            "properties": {"name": f"f{i}", "kind": kind, "categories": cats}}


def dataset(size, seed):
    path = os.path.join(OUT, f"region-{size}-{seed}.geojson")
    if os.path.exists(path):
        return path
    log(f"generating {size} features")
    rng = random.Random(f"{seed}-{size}")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(size):
            if i:
                f.write(",\n")
            f.write(json.dumps(feature(i, rng), separators=(",", ":")))
        f.write("\n]}\n")
    os.rename(tmp, path)
    return path


def queries(seed, count=400):
    rng = random.Random(f"queries-{seed}")
    out = []
    for _ in range(count):
        lon, lat = place(rng)
        out.append((lon, lat, rng.choice(CATEGORIES)))
    return out


def hexagon(lon, lat, radius=250.0):
    ring = [[lon + radius * math.cos(a * math.pi / 3) / M_LON, lat + radius * math.sin(a * math.pi / 3) / M_LAT]
            for a in range(6)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


NEARBY = "query Nearby($lon: Float!, $lat: Float!) { nearbyAssets(near: {lon: $lon, lat: $lat}, radiusMeters: 1000, filter: {kinds: [COMMUNITY_GROUP]}, first: 20) { edges { distanceMeters node { id name kind } } } }"
CEILING = "{ __typename }"
BBOX = "query Viewport($b: BBoxInput!) { assetsInBBox(bbox: $b, first: 100) { edges { node { id name kind geometry } } } }"
AROUND = "query Around($g: GeoJSON!) { assetsIntersecting(geometry: $g, first: 20) { edges { distanceMeters node { id name } } } }"


def bodies(kind, points):
    out = []
    for lon, lat, _ in points:
        if kind == "ceiling":
            out.append({"query": CEILING})
        elif kind == "nearby":
            out.append({"query": NEARBY, "variables": {"lon": lon, "lat": lat}})
        elif kind == "bbox":
            dx, dy = 500 / M_LON, 500 / M_LAT
            out.append({"query": BBOX, "variables": {"b": {"minLon": lon - dx, "minLat": lat - dy, "maxLon": lon + dx, "maxLat": lat + dy}}})
        else:
            out.append({"query": AROUND, "variables": {"g": hexagon(lon, lat)}})
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql, url=PG_ADMIN):
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def post(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


class Server:
    def __init__(self, url, label):
        self.port = free_port()
        self.log = open(os.path.join(OUT, f"{label}-server.log"), "w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        env["RUST_LOG"] = "warn"
        started = time.time()
        self.proc = subprocess.Popen([BINARY, "--database-url", url, "--bind", f"127.0.0.1:{self.port}",
                                      "--demo-data", "false", "--rate-limit-per-second", "0"],
                                     stdout=self.log, stderr=self.log, env=env)
        for _ in range(6000):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1)
                self.ready_s = round(time.time() - started, 2)
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("server did not start")

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        return None

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return None

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def tile_paths(z, points):
    """The zoom-z tile under each query point."""
    out = []
    for lon, lat, _ in points:
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        r = math.radians(lat)
        y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
        out.append(f"/tiles/{z}/{x}/{y}.mvt")
    return out


def tiles_run(port, z, points, duration, connections):
    """wrk over the tiles under the query points, and their mean size."""
    paths = tile_paths(z, points)
    path_file = os.path.join(OUT, f"paths-z{z}.txt")
    with open(path_file, "w") as f:
        f.write("\n".join(paths) + "\n")
    sizes = []
    cold = []  # the first request for each tile: drawn, not from the server's tile cache
    seen = set()
    for p in paths[:50]:
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{p}", timeout=120) as r:
            if r.status != 200:
                raise RuntimeError(f"{p} answered {r.status}")
            sizes.append(len(r.read()))
        if p not in seen:
            seen.add(p)
            cold.append((time.perf_counter() - started) * 1000)
    env = dict(os.environ, PATHS=path_file)
    threads = "1" if connections == 1 else "2"
    cmd = ["wrk", "-t", threads, "-c", str(connections), "-d", f"{duration}s", "--latency",
           "-s", os.path.join(ROOT, "scripts", "bench", "wrk.lua"), f"http://127.0.0.1:{port}"]
    subprocess.run(cmd[:6] + ["2s"] + cmd[7:], env=env, capture_output=True, text=True)  # warm-up
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    s = json.loads(line[len("WRK_JSON "):])
    return {"rps": round(s["requests"] / (s["duration_us"] / 1e6), 1), "p50_ms": s["p50_us"] / 1000,
            "p99_ms": s["p99_us"] / 1000, "errors": s["errors"], "mean_bytes": round(sum(sizes) / len(sizes)),
            "max_bytes": max(sizes), "distinct": len(set(paths)),
            "cold_p50_ms": round(statistics.median(cold), 1), "cold_max_ms": round(max(cold), 1)}


def wrk(port, kind, points, duration, connections):
    body_file = os.path.join(OUT, f"bodies-{kind}.txt")
    with open(body_file, "w") as f:
        for b in bodies(kind, points):
            f.write(json.dumps(b, separators=(",", ":")) + "\n")
    # every body must be a good request: errors would flatter the figures
    for b in bodies(kind, points)[:25]:
        r = post(port, b)
        if r.get("errors"):
            raise RuntimeError(f"{kind} answered with errors: {r['errors'][:1]}")
    env = dict(os.environ, BODIES=body_file)
    threads = "1" if connections == 1 else "2"

    def command(seconds):
        return ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--latency",
                "-s", os.path.join(ROOT, "scripts", "bench", "wrk.lua"), f"http://127.0.0.1:{port}"]

    subprocess.run(command(2), env=env, capture_output=True, text=True)  # warm-up
    out = subprocess.run(command(duration), env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    s = json.loads(line[len("WRK_JSON "):])
    return {"rps": round(s["requests"] / (s["duration_us"] / 1e6), 1), "p50_ms": s["p50_us"] / 1000,
            "p99_ms": s["p99_us"] / 1000, "errors": s["errors"]}


def pgbench_floor(db_url, points, duration, connections):
    psql("DROP TABLE IF EXISTS bench_points; CREATE TABLE bench_points (i int PRIMARY KEY, lon float8, lat float8, cat text)", db_url)
    values = ",".join(f"({i},{lon},{lat},'{cat}')" for i, (lon, lat, cat) in enumerate(points))
    psql(f"INSERT INTO bench_points VALUES {values}; ANALYZE bench_points", db_url)
    script = os.path.join(OUT, "floor.sql")
    with open(script, "w") as f:
        f.write(f"\\set i random(0, {len(points) - 1})\n")
        f.write("SELECT a.id, a.name, a.kind, ST_Distance(geography(a.geom), q.g) AS d\n"
                "FROM assets a, (SELECT geography(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) AS g, cat FROM bench_points WHERE i = :i) q\n"
                "WHERE ST_DWithin(geography(a.geom), q.g, 1000)\n"
                "  AND a.kind = 'COMMUNITY_GROUP' AND a.status = 'active' AND a.moderation = 'approved'\n"
                "ORDER BY ST_Distance(geography(a.geom), q.g) LIMIT 20;\n")
    out = subprocess.run(["pgbench", "-n", "-c", str(connections), "-j", "2", "-T", str(duration), "-f", script, db_url],
                         capture_output=True, text=True, check=True).stdout
    tps = float(next(l for l in out.splitlines() if l.startswith("tps")).split("=")[1].split()[0])
    lat = float(next(l for l in out.splitlines() if l.startswith("latency average")).split("=")[1].split()[0])
    return {"rps": round(tps, 1), "latency_avg_ms": lat}


def agreement(ports, points):
    """Nearby answers of the two backends: the same assets in the same order, distances
    within 0.1% or 0.5 m."""
    mismatches = compared = 0
    for b in bodies("nearby", points):
        answers = []
        for port in ports:
            edges = post(port, b)["data"]["nearbyAssets"]["edges"]
            answers.append([(e["node"]["name"], e["distanceMeters"]) for e in edges])
        lite, pg = answers
        compared += 1
        if [n for n, _ in lite] != [n for n, _ in pg] or any(
                abs(a - b) > max(0.5, 0.001 * b) for (_, a), (_, b) in zip(lite, pg)):
            mismatches += 1
    return {"queries": compared, "mismatches": mismatches}


def subscription_runs(counts, writes, every_ms):
    """N subscribers on replica B, a stream of writes through replica A (PostGIS): how
    long each write takes to reach each subscriber, and B's memory per subscriber."""
    name = "assetmap_bench_live"
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    env = dict(os.environ, RUST_LOG="warn")
    subprocess.run([BINARY, "--database-url", url, "migrate"], check=True, capture_output=True, env=env)
    token = subprocess.run([BINARY, "--database-url", url, "token", "create", "--role", "admin", "--name", "bench"],
                           check=True, capture_output=True, text=True, env=env).stdout.strip()
    a, b = Server(url, "live-a"), Server(url, "live-b")
    tool = os.path.join(ROOT, "target", "release", "examples", "subscribers")
    results = []
    for n in counts:
        log(f"live: {n} subscribers on one replica, {writes} writes on the other")
        before = b.rss_mb()
        proc = subprocess.Popen([tool, f"ws://127.0.0.1:{b.port}/graphql/ws", f"http://127.0.0.1:{a.port}/graphql",
                                 token, str(n), str(writes), str(every_ms)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()
        for _ in range(600):
            if b.metric("assetmap_live_subscriptions") >= n:
                break
            time.sleep(0.1)
        time.sleep(1)
        after = b.rss_mb()
        proc.stdin.write("\n")
        proc.stdin.flush()
        result = json.loads(proc.stdout.readline())
        proc.wait(timeout=120)
        result["rss_before_mb"] = round(before, 1)
        result["rss_with_subscribers_mb"] = round(after, 1)
        result["kb_per_subscriber"] = round((after - before) * 1024 / n, 1)
        print(json.dumps({"live": result}), flush=True)
        results.append(result)
        time.sleep(2)
    a.stop()
    b.stop()
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def print_limits(runs):
    for r in runs:
        lim = r.get("limits")
        if not lim:
            continue
        s = lim["spreads"]
        print(f"\nlimits, {r['backend']} {r['size']}: spread queries: {s['small_bytes']} B in {s['small']['ms']} ms "
              f"({s['small']['status']} {s['small']['code']}), {s['large_bytes']} B in {s['large']['ms']} ms "
              f"({s['large']['status']} {s['large']['code']}); three at once {s['three_at_once_max_ms']} ms, "
              f"{{ __typename }} beside them {s['typename_beside_three']['ms']} ms")
        b = lim["burst"]
        print(f"  16 at once, 3 rounds (RSS before {b['rss_before_mb']} MB): surface, statuses, largest body, "
              f"slowest s, peak RSS MB, RSS after MB")
        for name in ("rpde", "viewport", "oruk", "tiles_z10", "tiles_z14", "all"):
            x = b[name]
            print(f"  {name:<10} {json.dumps(x['statuses']):<20} {x['max_bytes']:>10} {x['max_s']:>7} "
                  f"{x['peak_rss_mb']:>8} {x['rss_after_mb']:>8}")
        st = lim["stall"]
        print(f"  stalled subscriber: {st['updates']} updates in {st['writes_s']} s, let go after "
              f"{st['closed_after_s']} s (close code {st['close_code_seen']}); RSS {st['rss_before_mb']} -> peak "
              f"{st['peak_rss_mb']}, {st['rss_at_end_of_writes_mb']} at the end of the writes, {st['rss_after_mb']} after")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--subscriptions", default="100,1000",
                    help="subscriber counts for the live run (PostGIS, two replicas); 'none' skips it")
    ap.add_argument("--writes", type=int, default=200, help="writes in each live run")
    ap.add_argument("--every-ms", type=int, default=25, help="pause between the live run's writes")
    ap.add_argument("--limits", default="1000000",
                    help="sizes at which to run the limits passes (scripts/bench/limits.py); 'none' skips them")
    ap.add_argument("--only-limits", action="store_true", help="skip the throughput and tile passes")
    args = ap.parse_args()
    limit_sizes = set() if args.limits == "none" else {int(s) for s in args.limits.split(",")}
    os.makedirs(OUT, exist_ok=True)
    for tool, package in (("wrk", "wrk"), ("pgbench", "postgresql-client")):
        if shutil.which(tool) is None:
            subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, capture_output=True)
    log("building the release binary")
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "assetmap"], cwd=ROOT, check=True)
    points = queries(args.seed)
    report = {"machine": {"cores": os.cpu_count()}, "runs": []}
    sizes = [] if args.sizes == "none" else [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        path = dataset(size, args.seed)
        servers = {}
        for backend in args.backends.split(","):
            if backend == "sqlite":
                db_path = os.path.join(OUT, f"bench-{size}.db")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db_path + suffix):
                        os.remove(db_path + suffix)
                url = f"sqlite://{db_path}?mode=rwc"
            else:
                name = f"assetmap_bench_{size}"
                psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                psql(f'CREATE DATABASE "{name}"')
                url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
            log(f"{backend} {size}: importing")
            started = time.time()
            imp = subprocess.run([BINARY, "--database-url", url, "import", path, "--quiet"],
                                 capture_output=True, text=True, env=dict(os.environ, RUST_LOG="warn"))
            seconds = time.time() - started
            if imp.returncode != 0:
                raise RuntimeError(imp.stderr[-2000:])
            run = {"backend": backend, "size": size, "import_s": round(seconds, 2),
                   "import_per_s": round(size / seconds), "import_report": imp.stderr.strip().splitlines()[-1]}
            server = Server(url, f"{backend}-{size}")
            run["ready_s"] = server.ready_s
            for kind in () if args.only_limits else ("ceiling", "nearby", "bbox", "intersecting"):
                log(f"{backend} {size}: {kind}")
                run[kind] = wrk(server.port, kind, points, args.duration, args.connections)
                run[kind]["single"] = wrk(server.port, kind, points, args.duration, 1)
            for z in () if args.only_limits else (10, 14):
                log(f"{backend} {size}: tiles at zoom {z}")
                run[f"tiles_z{z}"] = tiles_run(server.port, z, points, args.duration, args.connections)
            run["peak_rss_mb"] = server.peak_rss_mb()
            if size in limit_sizes:
                log(f"{backend} {size}: limits (spread queries, bursts of big pages, a stalled subscriber)")
                run["limits"] = limits.run(server, BINARY, url, size, limits.routes_dataset(OUT))
            if backend == "postgres" and not args.only_limits:
                log(f"postgres {size}: pgbench floor")
                run["floor"] = pgbench_floor(url, points, args.duration, args.connections)
            servers[backend] = (server, url)
            report["runs"].append(run)
            print(json.dumps(run), flush=True)
            if size != 100_000 or "postgres" not in args.backends:
                server.stop()
        if size == 100_000 and len(servers) == 2:
            log("100k: comparing the backends' nearby answers")
            report["agreement_100k"] = agreement([servers["sqlite"][0].port, servers["postgres"][0].port], points)
            print(json.dumps({"agreement_100k": report["agreement_100k"]}), flush=True)
            for server, _ in servers.values():
                server.stop()
    print_limits(report["runs"])
    if args.only_limits:
        with open(os.path.join(OUT, "report.json"), "w") as f:
            json.dump(report, f, indent=2)
        return
    floors = {r["size"]: r["floor"]["rps"] for r in report["runs"] if "floor" in r}
    print(f"\n{args.connections} connections (req/s, p50/p99 ms) and one connection (p50 ms)")
    print("size     backend   import s  ready s  ceiling rps  1c p50 | nearby rps  p50/p99     1c p50  x floor  x ceiling"
          " | viewport rps  p99     1c p50 | corridor rps  p99     1c p50 | RSS MB")
    for r in report["runs"]:
        floor = floors.get(r["size"])
        c, n, b, i = r["ceiling"], r["nearby"], r["bbox"], r["intersecting"]
        x_floor = f"{n['rps'] / floor:7.1f}" if floor else "      -"
        print(f"{r['size']:<8} {r['backend']:<9} {r['import_s']:>8} {r['ready_s']:>8} {c['rps']:>12} {c['single']['p50_ms']:>7.3f} |"
              f" {n['rps']:>10} {n['p50_ms']:>6.2f}/{n['p99_ms']:<6.2f} {n['single']['p50_ms']:>6.3f} {x_floor} {n['rps'] / c['rps']:>9.2f} |"
              f" {b['rps']:>12} {b['p99_ms']:>6.1f} {b['single']['p50_ms']:>8.3f} |"
              f" {i['rps']:>12} {i['p99_ms']:>6.1f} {i['single']['p50_ms']:>8.3f} | {r['peak_rss_mb']:>6}")
    print("\ntiles (16 connections, the server's tile cache on): req/s, p50/p99 ms, mean and largest bytes of 50;"
          " distinct tiles; first request for each (drawn, not cached): p50 and max ms")
    for r in report["runs"]:
        for z in (10, 14):
            t = r.get(f"tiles_z{z}")
            if t:
                print(f"{r['size']:<8} {r['backend']:<9} z{z:<3} {t['rps']:>9} {t['p50_ms']:>7.2f}/{t['p99_ms']:<7.2f} "
                      f"{t['mean_bytes']:>8} {t['max_bytes']:>8} {t['distinct']:>5} "
                      f"{t['cold_p50_ms']:>8.1f} {t['cold_max_ms']:>8.1f}")
    for size, floor in floors.items():
        print(f"floor {size}: pgbench {floor} tps (the nearby search as SQL: ST_DWithin geography + GiST, kind, ORDER BY ST_Distance LIMIT 20)")
    by = {(r["backend"], r["size"]): r for r in report["runs"]}
    for backend in args.backends.split(","):
        small, large = by.get((backend, 100_000)), by.get((backend, 1_000_000))
        if small and large:
            ratios = {k: round(large[k]["single"]["p50_ms"] / small[k]["single"]["p50_ms"], 2)
                      for k in ("nearby", "bbox", "intersecting")}
            print(f"{backend}: 1M p50 / 100k p50 (one connection): {ratios}")
    if "agreement_100k" in report:
        print(f"agreement at 100k: {report['agreement_100k']}")
    if args.subscriptions != "none" and "postgres" in args.backends:
        subprocess.run(["cargo", "build", "--release", "-q", "--example", "subscribers"], cwd=ROOT, check=True)
        counts = [int(n) for n in args.subscriptions.split(",")]
        report["live"] = subscription_runs(counts, args.writes, args.every_ms)
        print("\nsubscribers  writes  delivered  p50 ms  p99 ms  max ms  RSS before  with them  KB each")
        for r in report["live"]:
            print(f"{r['subscribers']:>11} {r['writes']:>7} {r['delivered']:>10} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                  f"{r['max_ms']:>7.1f} {r['rss_before_mb']:>11} {r['rss_with_subscribers_mb']:>10} {r['kb_per_subscriber']:>8}")
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
