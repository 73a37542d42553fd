"""Schemathesis hooks for Assetmap: GeoJSON values to fuzz with, and the check that
counts as a failure: a 5xx, an error without `extensions.code`, or an INTERNAL error."""

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes


def field(name, value):
    return graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)


def position(lon, lat):
    return nodes.List([nodes.Float(lon), nodes.Float(lat)])


lons = st.floats(min_value=-200, max_value=200, allow_nan=False, allow_infinity=False)
lats = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)
near_manchester = st.tuples(
    st.floats(min_value=-2.6, max_value=-2.0), st.floats(min_value=53.3, max_value=53.7)
)


def geometry(kind, coordinates):
    return nodes.Object([field("type", nodes.String(kind)), field("coordinates", coordinates)])


points = st.tuples(lons, lats).map(lambda p: geometry("Point", position(*p)))
local_points = near_manchester.map(lambda p: geometry("Point", position(*p)))
lines = st.lists(st.tuples(lons, lats), min_size=0, max_size=8).map(
    lambda ps: geometry("LineString", nodes.List([position(*p) for p in ps]))
)


def square(p, size):
    (x, y) = p
    ring = [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]
    return geometry("Polygon", nodes.List([nodes.List([position(*q) for q in ring])]))


squares = st.tuples(near_manchester, st.floats(min_value=1e-5, max_value=0.2)).map(
    lambda t: square(*t)
)
rings = st.lists(st.tuples(lons, lats), min_size=0, max_size=8).map(
    lambda ps: geometry("Polygon", nodes.List([nodes.List([position(*p) for p in ps])]))
)
odd = st.sampled_from(
    [
        nodes.String("not geojson"),
        nodes.Object([field("type", nodes.String("GeometryCollection"))]),
        nodes.Object([field("type", nodes.String("Feature"))]),
        nodes.Int(7),
        geometry("Point", nodes.List([])),
        geometry("Point", nodes.String("NaN")),
    ]
)

schemathesis.graphql.scalar(
    "GeoJSON", st.one_of(local_points, points, lines, squares, rings, odd)
)


@schemathesis.check
def no_internal_errors(ctx, response, case):
    """Client mistakes are fine; server faults and uncoded errors are not. Every error
    response is JSON with a code; a success that is not JSON (a CORS preflight's empty
    answer) has nothing to check."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        body = response.json()
    except ValueError as error:
        if response.status_code >= 400:
            raise AssertionError(f"not JSON: {response.text[:200]}") from error
        return
    for error in (body.get("errors") if isinstance(body, dict) else None) or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            raise AssertionError(f"an error without extensions.code: {error}")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL error: {error}")
