#!/usr/bin/env python3
"""Fault injection for Assetmap: kill -9 during writes and imports, a PostgreSQL restart
under load, a full disk. Checks that every acknowledged write survived, that nothing was
half-written, and that the database passes its integrity check. Prints the figures.

    scripts/faults/run.py [--rounds 20] [--backends sqlite,postgres] [--skip-restart] [--skip-disk]

Talks only to servers it starts on 127.0.0.1; every loop is bounded in count and time.
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "target", "debug", "assetmap")
PG_ADMIN = os.environ.get("ASSETMAP_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CATEGORIES = ["parks", "walking"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql, db_url=PG_ADMIN):
    out = subprocess.run(["psql", db_url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Server:
    def __init__(self, db_url, log_path):
        self.db_url, self.log_path, self.proc, self.port = db_url, log_path, None, None
        self.token = None

    def start(self, timeout=30):
        if self.token is None:
            # writes need an API token: issue an admin's (this also migrates the database)
            self.token = subprocess.run(
                [BINARY, "--database-url", self.db_url, "token", "create", "--role", "admin",
                 "--name", "fault injection"],
                check=True, capture_output=True, text=True).stdout.strip()
        self.port = free_port()
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [BINARY, "--database-url", self.db_url, "--bind", f"127.0.0.1:{self.port}",
             "--demo-data", "false", "--rate-limit-per-second", "0"],
            stdout=log, stderr=log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError("server did not become ready")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def gql(self, query, variables=None, timeout=10):
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql", data=body,
                                     headers={"content-type": "application/json",
                                              "authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")


CREATE = """mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $name: String!) {
  updateAsset(id: $id, expectedVersion: $v, input: {name: $name}) { id version name } }"""
READ = """query($id: ID!) { asset(id: $id) { name version categories { slug } } }"""


class Writers:
    """Threads creating and updating assets, recording what the server acknowledged."""

    def __init__(self, server, tag, threads=4):
        self.server, self.tag, self.threads = server, tag, threads
        self.acked = {}            # id -> (name, version) as last acknowledged
        self.errors = []           # (time, code or exception)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sent = 0

    def work(self, n):
        rng = random.Random(f"{self.tag}-{n}")
        i = 0
        while not self.stop.is_set() and i < 100_000:
            i += 1
            try:
                with self.lock:
                    owned = [k for k in self.acked if hash(k) % self.threads == n]
                if owned and rng.random() < 0.3:
                    asset_id = rng.choice(owned)
                    with self.lock:
                        _, version = self.acked[asset_id]
                    name = f"{self.tag}-{n}-{i}-renamed"
                    r = self.server.gql(UPDATE, {"id": asset_id, "v": version, "name": name})
                    data = (r.get("data") or {}).get("updateAsset")
                    if data:
                        with self.lock:
                            self.acked[asset_id] = (data["name"], data["version"])
                    elif r.get("errors"):
                        self.note(r["errors"][0].get("extensions", {}).get("code"))
                else:
                    name = f"{self.tag}-{n}-{i}"
                    lon, lat = -2.3 + rng.random() * 0.1, 53.4 + rng.random() * 0.1
                    r = self.server.gql(CREATE, {"input": {
                        "kind": "PARK", "name": name, "categories": CATEGORIES,
                        "geometry": {"type": "Point", "coordinates": [lon, lat]}}})
                    data = (r.get("data") or {}).get("createAsset")
                    if data:
                        with self.lock:
                            self.acked[data["id"]] = (name, data["version"])
                    elif r.get("errors"):
                        self.note(r["errors"][0].get("extensions", {}).get("code"))
                self.sent += 1
            except (OSError, ValueError) as e:
                self.note(type(e).__name__)
                time.sleep(0.01)

    def note(self, what):
        with self.lock:
            self.errors.append((time.time(), what))

    def run(self):
        self.pool = [threading.Thread(target=self.work, args=(n,), daemon=True) for n in range(self.threads)]
        for t in self.pool:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.pool:
            t.join(timeout=20)


def verify(server, acked):
    """Every acknowledged write is there, at least as new as acknowledged."""
    lost = 0
    for asset_id, (name, version) in acked.items():
        r = server.gql(READ, {"id": asset_id})
        a = (r.get("data") or {}).get("asset")
        if a is None or a["version"] < version or (a["version"] == version and a["name"] != name):
            lost += 1
            print(f"  LOST {asset_id}: acknowledged {name} v{version}, stored {a}", file=sys.stderr)
    return lost


HALF_WRITTEN = """SELECT count(*) FROM assets a WHERE a.name LIKE 'w%' AND
  (SELECT count(*) FROM asset_categories ac WHERE ac.asset_id = a.id) <> 2"""


class Store:
    def __init__(self, backend, workdir):
        self.backend = backend
        if backend == "sqlite":
            self.path = os.path.join(workdir, "faults.db")
            self.url = f"sqlite://{self.path}?mode=rwc"
        else:
            self.name = f"assetmap_faults_{os.getpid()}_{random.randrange(1 << 30)}"
            psql(f'CREATE DATABASE "{self.name}"')
            self.url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{self.name}"

    def query(self, sql):
        if self.backend == "sqlite":
            with contextlib.closing(sqlite3.connect(self.path)) as c:
                return c.execute(sql).fetchone()[0]
        return psql(sql, self.url)

    def integrity(self):
        if self.backend == "sqlite":
            with contextlib.closing(sqlite3.connect(self.path)) as c:
                return c.execute("PRAGMA integrity_check").fetchone()[0]
        psql("CREATE EXTENSION IF NOT EXISTS amcheck", self.url)
        psql("SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
             "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' "
             "AND i.indrelid IN ('assets'::regclass, 'asset_categories'::regclass)", self.url)
        return "ok"

    def drop(self):
        if self.backend == "postgres":
            psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def kill_during_writes(backend, rounds, workdir):
    store = Store(backend, workdir)
    server = Server(store.url, os.path.join(workdir, f"{backend}-server.log"))
    totals = {"rounds": 0, "acknowledged": 0, "lost": 0, "half_written": 0, "integrity_failures": 0, "requests": 0}
    acked_all = {}
    rng = random.Random(backend)
    for r in range(rounds):
        server.start()
        writers = Writers(server, f"w{r}")
        writers.run()
        time.sleep(rng.uniform(0.3, 1.5))
        server.kill9()
        writers.join()
        totals["requests"] += writers.sent
        acked_all.update(writers.acked)
        if backend == "sqlite" and store.integrity() != "ok":
            totals["integrity_failures"] += 1
        server.start()
        totals["lost"] += verify(server, writers.acked)
        totals["half_written"] = int(store.query(HALF_WRITTEN))
        server.stop()
        totals["rounds"] += 1
    totals["acknowledged"] = len(acked_all)
    if store.integrity() != "ok":
        totals["integrity_failures"] += 1
    store.drop()
    return totals


def kill_during_import(backend, rounds, workdir):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.3 + i * 1e-6, 53.4]},
                 "properties": {"name": f"imported {i}"}} for i in range(20_000)]
    path = os.path.join(workdir, "import.geojson")
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f)
    store = Store(backend, workdir)
    subprocess.run([BINARY, "--database-url", store.url, "migrate"], check=True, capture_output=True)
    outcomes = {"rounds": 0, "none": 0, "all": 0, "partial": 0, "integrity_failures": 0}
    rng = random.Random(f"import-{backend}")
    expected = 0
    for _ in range(rounds):
        proc = subprocess.Popen([BINARY, "--database-url", store.url, "import", path, "--kind", "service", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.5))
        finished = proc.poll() is not None
        if not finished:
            proc.kill()
        proc.wait()
        count = int(store.query("SELECT count(*) FROM assets WHERE name LIKE 'imported %'"))
        if count == expected:
            outcomes["none"] += 1
        elif count == expected + len(features):
            outcomes["all"] += 1
            expected = count
        else:
            outcomes["partial"] += 1
            expected = count
        if store.integrity() != "ok":
            outcomes["integrity_failures"] += 1
        outcomes["rounds"] += 1
    store.drop()
    return outcomes


def postgres_restart_under_load(workdir):
    store = Store("postgres", workdir)
    server = Server(store.url, os.path.join(workdir, "restart-server.log"))
    server.start()
    writers = Writers(server, "wrestart")
    writers.run()
    time.sleep(1.0)
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    down_at = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    up_at = time.time()
    time.sleep(4.0)
    writers.join()
    errors_after = [t for t, _ in writers.errors if t > up_at]
    last_error = max((t for t, _ in writers.errors), default=down_at)
    result = {
        "acknowledged": len(writers.acked),
        "errors": len(writers.errors),
        "error_codes": sorted({str(c) for _, c in writers.errors}),
        "database_down_s": round(up_at - down_at, 2),
        "errors_after_database_up_s": round(max(0.0, last_error - up_at), 2) if errors_after else 0.0,
        "server_restarted": False,
    }
    result["lost"] = verify(server, writers.acked)
    result["half_written"] = int(store.query(HALF_WRITTEN))
    server.stop()
    store.drop()
    return result


def full_disk(workdir):
    mount = os.path.join(workdir, "small-disk")
    os.makedirs(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], check=True)
    try:
        store = Store("sqlite", mount)
        server = Server(store.url, os.path.join(workdir, "disk-server.log"))
        server.start()
        filler = os.path.join(mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        writers = Writers(server, "wdisk", threads=2)
        writers.run()
        time.sleep(2.0)
        codes_full = sorted({str(c) for _, c in writers.errors})
        os.remove(filler)
        freed_at = time.time()
        full_errors = len(writers.errors)
        time.sleep(2.0)
        writers.join()
        # a request already running when space came back may still fail; later ones may not
        errors_after_free = len([t for t, _ in writers.errors if t > freed_at + 0.5])
        created_after = server.gql(CREATE, {"input": {"kind": "PARK", "name": "after the disk was freed",
                                   "categories": CATEGORIES, "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]}}})
        alive = bool((created_after.get("data") or {}).get("createAsset"))
        lost = verify(server, writers.acked)
        server.stop()
        return {"errors_while_full": full_errors, "error_codes": codes_full,
                "errors_after_freeing": errors_after_free, "writes_after_freeing": alive,
                "acknowledged": len(writers.acked), "lost": lost, "integrity": store.integrity(),
                "recovered": errors_after_free == 0 and alive}
    finally:
        subprocess.run(["umount", mount], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--skip-restart", action="store_true")
    parser.add_argument("--skip-disk", action="store_true")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "-q", "--bin", "assetmap"], cwd=ROOT, check=True)
    workdir = tempfile.mkdtemp(prefix="assetmap-faults-")
    report = {}
    for backend in args.backends.split(","):
        print(f"faults: kill -9 during writes on {backend}, {args.rounds} rounds", file=sys.stderr)
        report[f"{backend}_writes"] = kill_during_writes(backend, args.rounds, workdir)
        print(f"faults: kill -9 during imports on {backend}, {args.rounds} rounds", file=sys.stderr)
        report[f"{backend}_import"] = kill_during_import(backend, args.rounds, workdir)
    if not args.skip_restart and "postgres" in args.backends:
        print("faults: PostgreSQL restart under load", file=sys.stderr)
        report["postgres_restart"] = postgres_restart_under_load(workdir)
    if not args.skip_disk:
        print("faults: full disk (SQLite on an 8 MiB tmpfs)", file=sys.stderr)
        report["full_disk"] = full_disk(workdir)
    print(json.dumps(report, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    bad = sum(v.get("lost", 0) + v.get("half_written", 0) + v.get("partial", 0) + v.get("integrity_failures", 0)
              for v in report.values())
    if report.get("full_disk") and (report["full_disk"]["integrity"] != "ok" or not report["full_disk"]["recovered"]):
        bad += 1
    print(f"faults: {'FAILED' if bad else 'no losses, no half-written data, integrity ok'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
