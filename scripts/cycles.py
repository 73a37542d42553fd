#!/usr/bin/env python3
"""Import cycles between the crate's modules, from its `use crate::` and `crate::` paths
(and `super::`), and whether any crosses a floor.

    python3 scripts/cycles.py            # prints the cycles; exits 1 if one crosses a floor
    python3 scripts/cycles.py --all      # also lists each module's imports

The floors, top to bottom (a module may import from its own floor and those below):
cli > app > http > graphql > state > service > auth, jwt > spatial > domain > db, with
config, error, tasks and telemetry beside them all. A cycle within one floor is reported
but allowed where it is by design (the GraphQL object graph: an asset names its
organization, an organization lists its assets).
"""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(ROOT, "src")

FLOORS = ["db", "domain", "spatial", "auth", "service", "state", "graphql", "http", "app", "cli"]
SAME = {"jwt": "auth"}
BESIDE = {"config", "error", "tasks", "telemetry", "lib", "main"}


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return "::".join(parts) if parts else "lib"


def modules():
    found = {}
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(dirpath, f)
                found[module_of(path)] = path
    return found


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # tests are not part of the module graph
    cut = text.find("#[cfg(test)]")
    return text if cut < 0 else text[:cut]


def paths_in(text):
    """Every path written `crate::a::b` or `super::a`, with `use` groups expanded."""
    out = []
    for m in re.finditer(r"\b(crate|super(?:::super)*|self)::((?:\w+::)*)(\{[^;]*?\}|\w+)", text):
        head, mid, tail = m.group(1), m.group(2), m.group(3)
        if tail.startswith("{"):
            for item in re.split(r",(?![^{]*\})", tail[1:-1]):
                item = item.strip()
                if item:
                    first = re.match(r"(\w+)", item)
                    if first:
                        out.append((head, mid + first.group(1)))
        else:
            out.append((head, mid + tail))
    return out


def resolve(current, head, path, known):
    parts = [p for p in path.split("::") if p]
    if head == "crate":
        base = []
    elif head == "self":
        base = current.split("::") if current != "lib" else []
    else:
        base = current.split("::")
        for _ in range(head.count("super")):
            base = base[:-1]
    candidate = base + parts
    # the longest prefix that names a module
    for n in range(len(candidate), 0, -1):
        name = "::".join(candidate[:n])
        if name in known:
            return name
    return None


def floor(module):
    top = module.split("::")[0]
    top = SAME.get(top, top)
    if top in BESIDE:
        return None
    return FLOORS.index(top) if top in FLOORS else None


def tarjan(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    known = modules()
    graph = {}
    for name, path in known.items():
        with open(path) as f:
            text = strip(f.read())
        deps = set()
        for head, p in paths_in(text):
            target = resolve(name, head, p, known)
            # a module's own children are its parts, not its imports
            if target and target != name and not target.startswith(name + "::") and not name.startswith(target + "::"):
                deps.add(target)
        graph[name] = deps
    if "--all" in sys.argv:
        for name in sorted(graph):
            print(f"{name}: {', '.join(sorted(graph[name]))}")
    crossing = 0
    cycles = tarjan(graph)
    for comp in cycles:
        floors = {floor(m) for m in comp} - {None}
        crosses = len(floors) > 1
        crossing += crosses
        label = "CROSSES FLOORS" if crosses else "within one floor"
        print(f"cycle ({label}): {' <-> '.join(comp)}")
    # an import from a higher floor, cycle or not
    upward = []
    for name, deps in graph.items():
        for d in deps:
            a, b = floor(name), floor(d)
            if a is not None and b is not None and b > a:
                upward.append(f"{name} -> {d}")
    for u in sorted(upward):
        print(f"upward import: {u}")
    print(f"cycles: {len(cycles)}, crossing floors: {crossing}; upward imports: {len(upward)}")
    sys.exit(1 if crossing or upward else 0)


if __name__ == "__main__":
    main()
