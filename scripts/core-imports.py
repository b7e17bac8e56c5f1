#!/usr/bin/env python3
"""Lists import circles between the modules of crates/core (a module is a
file; `use crate::a::b` names the deepest module file that exists), and
with --top between its top-level modules (a folder counts as one).
Exits 1 when there is a circle. Usage: python3 scripts/core-imports.py [--top]"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "core", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return "::".join(rel) or "crate"


def files():
    for d, _, fs in os.walk(ROOT):
        for f in fs:
            if f.endswith(".rs"):
                yield os.path.join(d, f)


modules = {module_of(f): f for f in files()}


def resolve(path):
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        m = "::".join(parts[:n])
        if m in modules:
            return m
    return None


def strip_tests(text):
    # Test modules may import what they test from anywhere.
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


edges = {m: set() for m in modules}
for m, f in modules.items():
    text = strip_tests(open(f).read())
    for use in re.findall(r"use\s+(crate|super)((?:::\w+)+)", text) + [
        ("crate", "::" + p) for p in re.findall(r"\bcrate((?:::\w+)+)", text)
    ]:
        base, rest = use
        if base == "super":
            parent = m.rsplit("::", 1)[0] if "::" in m else ""
            if os.path.basename(modules[m]) == "mod.rs":
                parent = m.rsplit("::", 1)[0] if "::" in m else ""
            full = (parent + rest) if parent else rest[2:]
        else:
            full = rest[2:]
        target = resolve(full)
        # A module importing its own children is structure, not a circle.
        if target and target != m and not target.startswith(m + "::") and m != "crate":
            edges[m].add(target)

if "--top" in sys.argv:
    top = lambda m: m.split("::")[0]
    collapsed = {}
    for a, ts in edges.items():
        collapsed.setdefault(top(a), set()).update(top(t) for t in ts if top(t) != top(a))
    edges = collapsed

# Tarjan's strongly connected components.
index, low, stack, on, comps = {}, {}, [], set(), []
counter = [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
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
        comps.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(edges):
    if v not in index:
        visit(v)

circles = [sorted(c) for c in comps if len(c) > 1]
for c in circles:
    print("circle:", " <-> ".join(c))
    for a in c:
        print("   ", a, "->", ", ".join(sorted(t for t in edges[a] if t in c)))
print(f"{len(edges)} modules, {sum(len(e) for e in edges.values())} imports, {len(circles)} circles")
sys.exit(1 if circles else 0)
