#!/usr/bin/env python3
"""Walks an Open Referral UK 3.0 API as the ORUK validator's basic level does, and
validates every response against the profile's compiled schemas.

    walk.py BASE_URL SCHEMA_DIR

- `/` answers with the API's version;
- `/services?page=N` pages through everything: every page carries its metadata
  (total_items, total_pages, page_number, size, first_page, last_page, empty), the
  pages hold total_items services between them, each once;
- every listed service's `/services/{id}` exists, has that id and is a valid service;
- the same for `/service_at_locations`, and the taxonomies and their terms answer.

Exits 1 on the first kind of problem found, with every problem listed.
"""

import json
import sys
import urllib.error
import urllib.request

import jsonschema

BASE, SCHEMAS = sys.argv[1].rstrip("/"), sys.argv[2]
problems = []
requests = 0


def get(path):
    global requests
    requests += 1
    try:
        with urllib.request.urlopen(BASE + path, timeout=60) as r:
            if r.headers.get("Access-Control-Allow-Origin") != "*" and path != "/":
                problems.append(f"{path}: no Access-Control-Allow-Origin: *")
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None


def validator(name):
    with open(f"{SCHEMAS}/{name}.json") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check(v, value, what):
    errors = sorted(v.iter_errors(value), key=lambda e: list(e.path))
    for e in errors[:3]:
        problems.append(f"{what}: {e.message} at /{'/'.join(map(str, e.path))}")


def walk(listing, one, item_schema, full_schema, per_page, id_of):
    status, first = get(f"/{listing}?page=1&per_page={per_page}")
    if status != 200:
        problems.append(f"/{listing}: HTTP {status}")
        return 0
    total, pages = first["total_items"], first["total_pages"]
    if pages != max(1, -(-total // per_page)):
        problems.append(f"/{listing}: {total} items in {pages} pages of {per_page}")
    seen = []
    for n in range(1, pages + 2):
        status, page = (200, first) if n == 1 else get(f"/{listing}?page={n}&per_page={per_page}")
        if status != 200:
            problems.append(f"/{listing}?page={n}: HTTP {status}")
            continue
        contents = page["contents"]
        expected_size = per_page if n < pages else (total - (pages - 1) * per_page if n == pages else 0)
        for key, want in [("total_items", total), ("total_pages", pages), ("page_number", n),
                          ("size", expected_size), ("first_page", n == 1), ("last_page", n >= pages),
                          ("empty", expected_size == 0)]:
            if page.get(key) != want:
                problems.append(f"/{listing}?page={n}: {key} is {page.get(key)!r}, expected {want!r}")
        if len(contents) != expected_size:
            problems.append(f"/{listing}?page={n}: {len(contents)} items, expected {expected_size}")
        for item in contents:
            check(item_schema, item, f"/{listing}?page={n} item {item.get('id')}")
            seen.append(item["id"])
    if len(seen) != total or len(set(seen)) != total:
        problems.append(f"/{listing}: {len(seen)} items ({len(set(seen))} different) for total_items {total}")
    for id_ in seen:
        status, body = get(f"/{one}/{id_}")
        if status != 200:
            problems.append(f"/{one}/{id_}: HTTP {status} for a listed id")
            continue
        if id_of(body) != id_:
            problems.append(f"/{one}/{id_}: answered with id {id_of(body)}")
        check(full_schema, body, f"/{one}/{id_}")
    return total


status, root = get("/")
if status != 200 or root.get("version") != "3.0":
    problems.append(f"/: HTTP {status}, {root}")
services = walk("services", "services", validator("service_list"), validator("service"), 100,
                lambda s: s.get("id"))
sals = walk("service_at_locations", "service_at_locations", validator("service_at_location_list"),
            validator("service_at_location"), 500, lambda s: s.get("id"))
if sals != services:
    problems.append(f"{services} services but {sals} services at locations")
status, taxonomies = get("/taxonomies")
terms = 0
for t in (taxonomies or {}).get("contents", []):
    status, full = get(f"/taxonomies/{t['id']}")
    if status != 200:
        problems.append(f"/taxonomies/{t['id']}: HTTP {status}")
        continue
    for term in full.get("taxonomy_terms", []):
        terms += 1
        status, one = get(f"/taxonomy_terms/{term['id']}")
        if status != 200 or one != term:
            problems.append(f"/taxonomy_terms/{term['id']}: HTTP {status}, not the taxonomy's term")
for p in problems[:50]:
    print(f"oruk: {p}")
print(f"oruk: walked {services} services, {sals} services at locations, {terms} taxonomy terms "
      f"in {requests} requests; {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
