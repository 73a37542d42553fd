"""The benchmark's limits passes: what one anonymous client can make the server do.

    python3 scripts/bench/run.py --sizes 1000000 --limits 1000000          # after the other passes
    python3 scripts/bench/run.py --sizes 100000 --limits 100000 --only-limits

- spreads: the 1.1 KB fragment-spread query of the issue (six fragments, each spreading
  the next 30 times) and a 12 KB one (1 000 spreads), each timed to its answer, with
  `{ __typename }` timed while three of the small ones run at once.
- burst: 200 walking routes of 5 000 positions each are imported beside the region's
  assets; then, for each surface in turn (the RPDE page holding the routes, a viewport
  of them with geometry, ORUK `service_at_locations?per_page=500`, the z10 and z14 tiles
  over them), 16 clients ask for its largest page at once, three rounds; and once all
  surfaces together. The server's peak RSS during each (its high-water mark, reset
  before each through /proc/PID/clear_refs) and its RSS a few seconds after.
- stall: one anonymous WebSocket with a 4 KB receive buffer subscribes to
  `assetChanged { node { geometry } }` and never reads, while 1 100 updates of a park
  of 4 900 vertices are made through the API: the server's RSS during and after, and
  how long after the writes began the server let the connection go.
"""

import json
import math
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request
import base64

M_LAT = 111_250.0
M_LON = 111_320.0 * math.cos(math.radians(53.5))
ROUTES_AT = (-2.2300, 53.4700)  # central Manchester, beside the region's densest town
ROUTES = 200
ROUTE_POSITIONS = 5_000


def r6(x):
    return round(x, 6)


def routes_dataset(out):
    """200 walking routes of 5 000 positions within about 1 km of one point, named to
    sort first in name order."""
    path = os.path.join(out, "routes-200x5000.geojson")
    if os.path.exists(path):
        return path
    rng = random.Random("routes")
    with open(path + ".tmp", "w") as f:
        f.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(ROUTES):
            lon, lat = ROUTES_AT
            x, y = lon + rng.uniform(-400, 400) / M_LON, lat + rng.uniform(-400, 400) / M_LAT
            heading = rng.uniform(0, 2 * math.pi)
            line = []
            for _ in range(ROUTE_POSITIONS):
                heading += rng.uniform(-0.4, 0.4)
                x += 2.0 * math.cos(heading) / M_LON
                y += 2.0 * math.sin(heading) / M_LAT
                line.append([r6(x), r6(y)])
            feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
                       "properties": {"name": f"Aaa long route {i:03}", "kind": "WALKING_ROUTE",
                                      "categories": ["walking"]}}
            if i:
                f.write(",\n")
            f.write(json.dumps(feature, separators=(",", ":")))
        f.write("\n]}\n")
    os.rename(path + ".tmp", path)
    return path


def spread_query(m, k):
    q = "{ ...F0 } " + " ".join(
        "fragment F%d on Query { __typename %s }" % (i, " ".join(["...F%d" % (i + 1)] * m) if i < k - 1 else "")
        for i in range(k))
    return json.dumps({"query": q}).encode()


def timed_post(port, body, timeout=120):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                 headers={"content-type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except OSError as e:
        return {"ms": round((time.perf_counter() - started) * 1000, 1), "status": None, "error": str(e)}
    ms = (time.perf_counter() - started) * 1000
    try:
        errors = json.loads(text).get("errors") or []
    except ValueError:
        errors = [{"message": text[:200].decode(errors="replace")}]
    code = errors[0].get("extensions", {}).get("code") if errors else None
    return {"ms": round(ms, 1), "status": status, "bytes": len(text), "code": code}


def spreads(server):
    small, large = spread_query(30, 6), spread_query(250, 5)
    result = {"small_bytes": len(small), "large_bytes": len(large)}
    result["small"] = timed_post(server.port, small)
    result["large"] = timed_post(server.port, large)
    # three small ones at once, and the layer's own query beside them
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(timed_post(server.port, small))) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    result["typename_beside_three"] = timed_post(server.port, b'{"query":"{ __typename }"}')
    for t in threads:
        t.join()
    result["three_at_once_max_ms"] = max(a["ms"] for a in answers)
    return result


def get(port, path, timeout=120):
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, len(r.read()), time.perf_counter() - started
    except urllib.error.HTTPError as e:
        return e.code, len(e.read()), time.perf_counter() - started
    except OSError:
        return None, 0, time.perf_counter() - started


def post_get(port, body, timeout=120):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, len(r.read()), time.perf_counter() - started
    except urllib.error.HTTPError as e:
        return e.code, len(e.read()), time.perf_counter() - started
    except OSError:
        return None, 0, time.perf_counter() - started


def tile_path(z, lon, lat):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    r = math.radians(lat)
    y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.mvt"


def surfaces(port, feed_after):
    lon, lat = ROUTES_AT
    dx, dy = 1500 / M_LON, 1500 / M_LAT
    viewport = {"query": "query Viewport($b: BBoxInput!) { assetsInBBox(bbox: $b, first: 100, "
                         "filter: {kinds: [WALKING_ROUTE], text: \"aaa long route\"}) { edges { node { id name geometry } } "
                         "pageInfo { hasNextPage } } }",
                "variables": {"b": {"minLon": lon - dx, "minLat": lat - dy, "maxLon": lon + dx, "maxLat": lat + dy}}}
    return {
        "rpde": lambda: get(port, f"/feeds/assets?afterChangeNumber={feed_after}"),
        "viewport": lambda: post_get(port, viewport),
        "oruk": lambda: get(port, "/oruk/service_at_locations?per_page=500"),
        # walking routes only: few enough in a z14 tile to be drawn one by one
        "tiles_z10": lambda: get(port, tile_path(10, lon, lat) + "?kinds=WALKING_ROUTE"),
        "tiles_z14": lambda: get(port, tile_path(14, lon, lat) + "?kinds=WALKING_ROUTE"),
    }


def clear_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def at_once(calls, clients=16, rounds=3):
    results = []
    for _ in range(rounds):
        threads = [threading.Thread(target=lambda c=c: results.append(c())) for c in calls for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    statuses = {}
    for status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"requests": len(results), "statuses": statuses,
            "max_bytes": max(b for _, b, _ in results), "max_s": round(max(s for _, _, s in results), 2)}


def settle(server, seconds=5):
    time.sleep(seconds)
    return round(server.rss_mb(), 1)


def burst(server, feed_after):
    """16 clients at once on each surface's largest page: peak RSS during, RSS after."""
    calls = surfaces(server.port, feed_after)
    for call in calls.values():  # each answers, once, before the burst
        call()
    out = {"rss_before_mb": settle(server, 2)}
    for name, call in list(calls.items()) + [("all", None)]:
        clear_peak(server.proc.pid)
        started_rss = server.rss_mb()
        if name == "all":
            r = at_once(list(calls.values()), clients=16, rounds=1)
        else:
            r = at_once([call])
        r["peak_rss_mb"] = server.peak_rss_mb()
        r["rss_at_start_mb"] = round(started_rss, 1)
        r["rss_after_mb"] = settle(server)
        out[name] = r
    return out


class StalledSocket:
    """A WebSocket client that sets a 4 KB receive buffer, subscribes, and stops reading."""

    def __init__(self, port, query):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /graphql/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head.decode(errors="replace"))
        self.send({"type": "connection_init", "payload": {}})
        ack = self.read_frame()
        if json.loads(ack).get("type") != "connection_ack":
            raise RuntimeError(ack)
        self.send({"id": "1", "type": "subscribe", "payload": {"query": query}})

    def send(self, message):
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126
                                  else bytes([0x80 | 126]) + len(data).to_bytes(2, "big"))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def read_frame(self):
        def exact(n):
            buf = b""
            while len(buf) < n:
                chunk = self.sock.recv(n - len(buf))
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            return buf
        b0, b1 = exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(exact(2), "big")
        elif n == 127:
            n = int.from_bytes(exact(8), "big")
        return exact(n).decode(errors="replace")

    def drain(self):
        """Reads what is left; returns the close code the server sent, if any."""
        self.sock.settimeout(5)
        data = b""
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        at = data.rfind(b"\x88")
        if at >= 0 and len(data) >= at + 4:
            return int.from_bytes(data[at + 2:at + 4], "big")
        return None


def graphql(port, token, query, variables):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                 data=json.dumps({"query": query, "variables": variables}).encode(),
                                 headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        answer = json.loads(r.read())
    if answer.get("errors"):
        raise RuntimeError(answer["errors"])
    return answer["data"]


def stall(server, binary, url, updates=1100):
    token = subprocess.run([binary, "--database-url", url, "token", "create", "--role", "admin", "--name", "bench-stall"],
                           check=True, capture_output=True, text=True,
                           env=dict(os.environ, RUST_LOG="warn")).stdout.strip()
    lon, lat = -2.3500, 53.4300
    ring = [[r6(lon + 800 * math.cos(a / 4899 * 2 * math.pi) / M_LON), r6(lat + 800 * math.sin(a / 4899 * 2 * math.pi) / M_LAT)]
            for a in range(4899)]
    ring.append(ring[0])
    park = graphql(server.port, token, "mutation($g: GeoJSON!) { createAsset(input: {kind: PARK, name: \"Big park\", "
                   "geometry: $g}) { id version } }", {"g": {"type": "Polygon", "coordinates": [ring]}})["createAsset"]
    before = settle(server, 1)
    clear_peak(server.proc.pid)
    client = StalledSocket(server.port, "subscription { assetChanged { node { geometry } } }")
    for _ in range(100):
        if server.metric("assetmap_live_subscriptions") >= 1:
            break
        time.sleep(0.05)
    started = time.time()
    closed_at = None
    version = park["version"]
    for i in range(updates):
        version = graphql(server.port, token, "mutation($id: ID!, $v: Int!, $n: String!) { updateAsset(id: $id, "
                          "expectedVersion: $v, input: {name: $n}) { version } }",
                          {"id": park["id"], "v": version, "n": f"Big park {i}"})["updateAsset"]["version"]
        if closed_at is None and i % 50 == 0 and server.metric("assetmap_live_connections") == 0:
            closed_at = time.time()
    writes_s = time.time() - started
    while closed_at is None and time.time() - started < writes_s + 90:
        if server.metric("assetmap_live_connections") == 0:
            closed_at = time.time()
            break
        time.sleep(0.1)
    during_peak = server.peak_rss_mb()
    rss_stalled = round(server.rss_mb(), 1)
    code = client.drain()
    client.sock.close()
    after = settle(server)
    return {"updates": updates, "writes_s": round(writes_s, 1),
            "closed_after_s": round(closed_at - started, 1) if closed_at else None,
            "close_code_seen": code, "rss_before_mb": before, "peak_rss_mb": during_peak,
            "rss_at_end_of_writes_mb": rss_stalled, "rss_after_mb": after}


def run(server, binary, url, size, routes_path):
    """Every limits pass on a running server over `size` assets; imports the routes."""
    out = {}
    out["spreads"] = spreads(server)
    env = dict(os.environ, RUST_LOG="warn")
    imp = subprocess.run([binary, "--database-url", url, "import", routes_path, "--quiet"],
                         capture_output=True, text=True, env=env)
    if imp.returncode != 0:
        raise RuntimeError(imp.stderr[-2000:])
    time.sleep(2)  # the running server hears of the import
    # the routes are the log's last entries: the feed's page from just before them
    out["burst"] = burst(server, size)
    out["stall"] = stall(server, binary, url)
    return out
