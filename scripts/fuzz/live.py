#!/usr/bin/env python3
"""Fuzzes the live endpoint (GET /graphql/ws, graphql-transport-ws) with seeded random
messages: garbage bytes and text, JSON of every shape, protocol messages with wrong
fields, oversized frames, duplicate and unknown ids, subscriptions with random queries
and variables, over many short connections. A failure is a connection refused by a
server that should be up, a close code outside the protocol's, or an error without a
code. The caller also checks the server's log for panics.

    live.py ws://127.0.0.1:PORT/graphql/ws [--seed N] [--connections N]
"""

import argparse
import json
import logging
import random
import sys

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

ALLOWED_CLOSE = {1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1011, 4400, 4401, 4403, 4408, 4409, 4429, 4500}
QUERIES = [
    "subscription { assetChanged { position state node { id name } } }",
    "subscription($f: AssetChangeFilter) { assetChanged(filter: $f) { position } }",
    "subscription { assetChanged { node { organization { name } categories { slug parent { slug } } } } }",
    "{ categories { slug } }",
    "mutation { takeDownAsset(id: \"x\", expectedVersion: 1) { id } }",
    "subscription { nothingHere }",
    "subscription {",
    "subscription { assetChanged(filter: {kinds: [CASTLE]}) { position } }",
    "subscription " + "{ assetChanged { node { organization " * 40,
    # fragment spreads that multiply: refused before validation, however they nest
    "subscription { assetChanged { ...F0 } } " + " ".join(
        "fragment F%d on AssetChangeEdge { position %s }" % (i, " ".join(["...F%d" % (i + 1)] * 30) if i < 5 else "")
        for i in range(6)),
]


def value(rng, depth=0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1.5e308, rng.randint(-1000, 1000)])
    if kind == 3:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(20)))
    if kind == 4:
        return rng.choice(["Bearer amt_x", "connection_init", "subscribe", "", "a" * rng.randrange(100)])
    if kind == 5:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["type", "id", "payload", "query", "variables", "f", "bbox", "kinds"]):
            value(rng, depth + 1) for _ in range(rng.randrange(4))}


def message(rng):
    roll = rng.randrange(12)
    if roll == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if roll == 1:
        return "".join(chr(rng.randrange(1, 0xFFFF)) for _ in range(rng.randrange(100))).encode("utf-8", "replace").decode("utf-8", "replace")
    if roll == 2:
        return json.dumps(value(rng))
    if roll == 3:
        return json.dumps({"type": "connection_init", "payload": value(rng)})
    if roll == 4:
        return json.dumps({"type": "connection_init", "payload": {"Authorization": value(rng)}})
    if roll == 5:
        return json.dumps({"type": rng.choice(["ping", "pong", "complete"]), "id": value(rng), "payload": value(rng)})
    if roll == 6:
        return "x" * rng.choice([70_000, 10, 66_000])
    variables = rng.choice([{}, {"f": value(rng)}, value(rng),
                            {"f": {"bbox": {"minLon": -2.3, "minLat": 53.4, "maxLon": -2.2, "maxLat": 53.5}}}])
    return json.dumps({"type": "subscribe", "id": rng.choice(["1", "1", "2", str(rng.random())]),
                       "payload": {"query": rng.choice(QUERIES), "variables": variables}})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--connections", type=int, default=60)
    args = parser.parse_args()
    # the client library logs a server's prompt close after its close frame as an error
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    rng = random.Random(args.seed)
    sent = 0
    problems = []
    for n in range(args.connections):
        try:
            with connect(args.url, subprotocols=["graphql-transport-ws"], open_timeout=10,
                         close_timeout=2, max_size=None) as ws:
                if rng.random() < 0.7:
                    ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                for _ in range(rng.randrange(1, 12)):
                    ws.send(message(rng))
                    sent += 1
                try:
                    while True:
                        reply = ws.recv(timeout=0.3)
                        if isinstance(reply, str) and reply.startswith("{"):
                            for error in (json.loads(reply).get("payload") or {}).get("errors") or [] \
                                    if isinstance(json.loads(reply).get("payload"), dict) else []:
                                code = (error.get("extensions") or {}).get("code")
                                if code in (None, "INTERNAL"):
                                    problems.append(f"connection {n}: error with code {code}: {error}")
                except TimeoutError:
                    pass
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            if code not in ALLOWED_CLOSE:
                problems.append(f"connection {n}: closed with {code}")
        except InvalidStatus as refused:
            problems.append(f"connection {n}: upgrade refused with {refused.response.status_code}")
        except OSError as error:
            problems.append(f"connection {n}: {error}")
    print(f"live: {args.connections} connections, {sent} messages, {len(problems)} problems")
    for p in problems[:20]:
        print(f"live: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
