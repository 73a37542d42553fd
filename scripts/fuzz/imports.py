#!/usr/bin/env python3
"""Fuzzes the import formats through the real command line: seeded, mutated CSV files,
Open Referral UK pages, ONSPD postcode files and source mappings, each imported into
one database. Every run must end with exit status 0 (imported, rejections reported) or
1 (refused with a message), never a panic (101) or a signal, and a refused import must
leave the asset count as it was.

    imports.py BINARY DATABASE_URL --seed N --cases N
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("database_url")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--cases", type=int, default=100)
args = ap.parse_args()
rng = random.Random(args.seed)

NASTY = ["", " ", "\x00", "\u202e", "é", "😀", "<script>alert(1)</script>", "'; DROP TABLE assets; --",
         "99.999999", "-0", "1e309", "NaN", "inf", "-181", "91", "00:00-24:00", "25:00-26:00",
         "CLOSED", "Mo-Fr 09:00-17:00", "WN1 1RG", "wn11rg", "ZZ9 9ZZ", "\"", "\"\"\"", ",", "\n", "\r\n",
         "x" * 5000, "javascript:alert(1)", "SERVICE", "PARK", "lunch-clubs", "not-a-category", "true", "[]", "{}"]


def value():
    r = rng.random()
    if r < 0.4:
        return rng.choice(NASTY)
    if r < 0.6:
        return f"{rng.uniform(-3, -2):.6f}" if rng.random() < 0.5 else f"{rng.uniform(53, 54):.6f}"
    return "".join(rng.choice("abcXYZ 019,-:;\"'\\") for _ in range(rng.randint(0, 30)))


def csv_file():
    headers = rng.sample(["name", "Name", "postcode", "longitude", "latitude", "lon", "lat", "phone",
                          "opening_hours", "categories", "kind", "website", "min_age", "x"], rng.randint(1, 8))
    lines = [",".join(headers)]
    for _ in range(rng.randint(0, 30)):
        cells = [value() for _ in range(len(headers) + rng.choice([0, 0, 0, -1, 1]))]
        lines.append(",".join(c if rng.random() < 0.7 else '"' + c.replace('"', '""') + '"' for c in cells))
    text = "\n".join(lines)
    if rng.random() < 0.2:
        cut = rng.randint(0, len(text))
        text = text[:cut]
    return text.encode("utf-8", "surrogatepass") if rng.random() < 0.9 else os.urandom(rng.randint(0, 300))


def jvalue(depth=0):
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice([None, True, 0, -1, 1.5, 1e300, value(), [], {}])
    if r < 0.5:
        return [jvalue(depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["id", "name", "latitude", "longitude", "extent", "x"]): jvalue(depth + 1)
            for _ in range(rng.randint(0, 3))}


def service(i):
    s = {"id": str(i) if rng.random() < 0.9 else jvalue(), "name": value() if rng.random() < 0.9 else jvalue(),
         "status": rng.choice(["active", "inactive", value()])}
    for key in ["description", "url", "email", "fees", "minimum_age", "maximum_age", "schedules",
                "service_at_locations", "attributes", "cost_options", "service_areas", "phones", "organization"]:
        if rng.random() < 0.5:
            s[key] = jvalue()
    if rng.random() < 0.6:
        s["service_at_locations"] = [{"id": "l", "location": {"id": "m", "latitude": rng.choice([53.5, "53.5", None, 1e9]),
                                                                "longitude": rng.choice([-2.6, "x", None, -999])}}]
    if rng.random() < 0.3:
        s["service_areas"] = [{"id": "a", "extent_type": "geojson",
                               "extent": json.dumps({"type": rng.choice(["Polygon", "Point", "Nope"]),
                                                     "coordinates": jvalue()})}]
    if rng.random() < 0.3:
        s["schedules"] = [{"id": "s", "freq": rng.choice(["WEEKLY", "MONTHLY", value()]), "byday": value(),
                           "opens_at": value(), "closes_at": value(), "description": value()}]
    return s


def oruk_file():
    services = [service(i) for i in range(rng.randint(0, 12))]
    doc = rng.choice([{"contents": services}, services, services[0] if services else {}, jvalue()])
    text = json.dumps(doc)
    if rng.random() < 0.15:
        text = text[:rng.randint(0, len(text))]
    return text.encode()


def onspd_file():
    lines = ['"pcd","pcds","doterm","lat","long"']
    for _ in range(rng.randint(0, 30)):
        if rng.random() < 0.5:
            # a well-formed row, with a value mutated now and then
            pc = f"{rng.choice(['M', 'WN', 'BL'])}{rng.randint(1, 99)} {rng.randint(0, 9)}{rng.choice('ABD')}{rng.choice('EFG')}"
            cells = [pc, pc, rng.choice(["", "202001"]), f"{rng.uniform(53, 54):.6f}", f"{rng.uniform(-3, -2):.6f}"]
            if rng.random() < 0.3:
                cells[rng.randrange(5)] = value()
            lines.append(",".join(f'"{c}"' for c in cells))
        else:
            lines.append(",".join(f'"{value()}"' if rng.random() < 0.5 else value() for _ in range(rng.choice([5, 5, 5, 4, 6]))))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def mapping_file():
    if rng.random() < 0.4:
        m = {key: jvalue() for key in ["kind", "categories", "name", "properties", "rules", "weekly_hours",
                                        "accessibility", "free", "skip"] if rng.random() < 0.4}
    else:
        # a well-formed mapping with odd values
        m = {"kind": rng.choice(["VENUE", "PARK", "SERVICE", "CASTLE"]),
             "categories": rng.sample(["sport", "parks", "food", "no-such-term"], rng.randint(0, 2)),
             "name": rng.choice(["name", "x"]),
             "properties": {rng.choice(["phone", "website", "description", "colour"]): "x"},
             "weekly_hours": {rng.choice(["Mo", "Tu", "Xx"]): rng.choice(["name", "x"])},
             "accessibility": {rng.choice(["SEATING", "LIFT", "MOAT"]): {"property": "x", "values": [value()]}},
             "free": {"property": "x", "free": [value()], "charged": [value()]},
             "skip": {"property": "name", "values": [value()]}}
    return json.dumps(m).encode()


def run(cmd):
    p = subprocess.run([args.binary, "--database-url", args.database_url] + cmd,
                       capture_output=True, text=True, env={**os.environ, "RUST_LOG": "error"})
    return p.returncode, p.stderr


def count():
    _, err = run(["export", "--output", os.devnull])
    m = re.search(r"exported (\d+) assets", err)
    return int(m.group(1)) if m else -1


problems = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(args.cases):
        kind = rng.choice(["csv", "oruk", "postcodes", "mapping"])
        path = os.path.join(tmp, f"case{i}")
        before = count()
        if kind == "csv":
            open(path, "wb").write(csv_file())
            cmd = ["import", "--quiet", "--format", "csv", "--kind", "venue", path]
        elif kind == "oruk":
            open(path, "wb").write(oruk_file())
            cmd = ["import", "--quiet", "--format", "oruk", path]
        elif kind == "postcodes":
            open(path, "wb").write(onspd_file())
            cmd = ["postcodes", "import", "--quiet", path]
        else:
            open(path, "wb").write(json.dumps({"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.5, 53.5]},
                 "properties": {"name": value(), "x": value()}}]}).encode())
            open(path + ".json", "wb").write(mapping_file())
            cmd = ["import", "--quiet", "--mapping", path + ".json", "--kind", "venue", path]
        code, err = run(cmd)
        after = count()
        if code not in (0, 1) or "panicked" in err:
            problems.append(f"case {i} ({kind}): exit {code}: {err.strip()[-300:]}")
        elif code == 1 and after != before:
            problems.append(f"case {i} ({kind}): refused but the asset count went from {before} to {after}")
        elif code == 1 and not err.strip():
            problems.append(f"case {i} ({kind}): refused without a message")

for p in problems[:20]:
    print(f"imports: {p}")
print(f"imports: {args.cases} cases (CSV, ORUK, postcode files, mappings), {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
