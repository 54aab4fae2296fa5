#!/usr/bin/env python3
"""Fail when src/ modules import each other in a cycle.

Reads every `crate::a::b` and `super::x` path outside test code and builds the graph between
modules at depths 1 to 3 (`deploy` → `deploy::plan` → `deploy::plan::graph`). A cycle at any depth
is printed and the script exits 1. Paths in comments count too: a doc comment that names another
module is a dependency a reader follows.
"""
import glob
import re
import sys


def module_path(file):
    parts = file[len("src/"):-len(".rs")].split("/")
    return parts[:-1] if parts[-1] == "mod" else parts


def test_only_files():
    """Files declared as `#[cfg(test)] mod name;` (optionally with `#[path = "…"]`)."""
    found = set()
    declaration = re.compile(r'#\[cfg\(test\)\]\s*(?:#\[path = "([^"]+)"\]\s*)?mod (\w+);')
    for file in glob.glob("src/**/*.rs", recursive=True):
        directory = file.rsplit("/", 1)[0]
        stem = file.rsplit("/", 1)[1][: -len(".rs")]
        own_dir = directory if stem in ("mod", "lib", "main") else f"{directory}/{stem}"
        for match in declaration.finditer(open(file).read()):
            path, name = match.groups()
            if path:
                found.add(f"{directory}/{path}")
            else:
                found.update({f"{own_dir}/{name}.rs", f"{own_dir}/{name}/mod.rs"})
    return found


def edges(depth):
    graph = {}
    skipped = test_only_files()
    for file in glob.glob("src/**/*.rs", recursive=True):
        if file in skipped:
            continue
        me = module_path(file)
        text = re.split(r"#\[cfg\(test\)\]", open(file).read())[0]
        parent = me[:-1]
        targets = [tuple(m.group(1).split("::")) for m in re.finditer(r"crate::([a-z_]+(?:::[a-z_]+)*)", text)]
        targets += [tuple(parent + m.group(1).split("::")) for m in re.finditer(r"\bsuper::([a-z_]+(?:::[a-z_]+)*)", text)]
        source = tuple(me[:depth])
        for target in targets:
            target = target[:depth]
            if source and target and source != target and len(source) == depth:
                graph.setdefault(source, set()).add(target)
    return graph


def cycles(graph):
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted("::".join(part) for part in component))

    sys.setrecursionlimit(10000)
    for node in list(graph):
        if node not in index:
            visit(node)
    return found


failed = False
for depth in (1, 2, 3):
    for component in cycles(edges(depth)):
        print(f"module-cycles: import cycle between {', '.join(component)}", file=sys.stderr)
        failed = True
if failed:
    sys.exit(1)
print("module-cycles: no import cycle between src/ modules")
