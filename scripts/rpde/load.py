#!/usr/bin/env python3
"""Gives a running Assetmap a few thousand changes to publish: imports N generated
assets with `assetmap import`, then, through the API, archives every tenth, renames
every seventh and takes down every thirteenth, so the feed holds updates, moves and
deletions. Usage: load.py <binary> <database url> <base url> <admin token> [N]"""

import json
import random
import subprocess
import sys
import tempfile
import urllib.request


def gql(base, token, query, variables):
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(
        f"{base}/graphql", body,
        {"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as res:
        out = json.load(res)
    if out.get("errors"):
        raise SystemExit(f"load: {out['errors']}")
    return out["data"]


def main():
    binary, db_url, base, token = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
    rng = random.Random(11)
    features = [{"type": "Feature",
                 "geometry": {"type": "Point", "coordinates": [
                     round(-2.6 + rng.random() * 0.6, 6), round(53.35 + rng.random() * 0.3, 6)]},
                 "properties": {"name": f"Group {i}", "kind": "COMMUNITY_GROUP",
                                "categories": ["volunteering"]}}
                for i in range(n)]
    with tempfile.NamedTemporaryFile("w", suffix=".geojson", delete=False) as f:
        json.dump({"type": "FeatureCollection", "features": features}, f)
    subprocess.run([binary, "--database-url", db_url, "import", f.name, "--quiet"], check=True)
    assets, after = [], None
    while True:
        page = gql(base, token,
                   "query($a: String) { assetChanges(first: 100, after: $a) { edges { node { id version } } "
                   "pageInfo { hasNextPage endCursor } } }", {"a": after})["assetChanges"]
        assets += [e["node"] for e in page["edges"] if e["node"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    changed = 0
    for i, a in enumerate(assets):
        if i % 10 == 0:
            gql(base, token, "mutation($id: ID!, $v: Int!) { archiveAsset(id: $id, expectedVersion: $v) { id } }",
                {"id": a["id"], "v": a["version"]})
        elif i % 13 == 0:
            gql(base, token, "mutation($id: ID!, $v: Int!) { takeDownAsset(id: $id, expectedVersion: $v) { id } }",
                {"id": a["id"], "v": a["version"]})
        elif i % 7 == 0:
            gql(base, token, "mutation($id: ID!, $v: Int!) { updateAsset(id: $id, expectedVersion: $v, "
                "input: {name: \"Renamed group\"}) { id } }", {"id": a["id"], "v": a["version"]})
        else:
            continue
        changed += 1
    print(f"load: {len(assets)} assets imported, {changed} then changed", file=sys.stderr)


if __name__ == "__main__":
    main()
