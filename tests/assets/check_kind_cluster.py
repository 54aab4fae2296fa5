#!/usr/bin/env python3
"""Minimal validation of kind cluster configs (kind.x-k8s.io/v1alpha4).

Usage: check_kind_cluster.py FILE...
Checks: one YAML document; kind: Cluster; apiVersion: kind.x-k8s.io/v1alpha4; a name;
at least one control-plane node; every extraPortMappings entry has integer ports and
listenAddress 127.0.0.1 (ports reachable from this machine only); no host port twice.
Prints one line per file and exits 1 if any file fails.
"""

import sys

import yaml

API_VERSION = "kind.x-k8s.io/v1alpha4"
LOOPBACK = "127.0.0.1"


def problems(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if len(docs) != 1:
        return [f"expected one YAML document, found {len(docs)}"]
    doc = docs[0]
    if not isinstance(doc, dict):
        return ["top level is not a mapping"]
    found = []
    if doc.get("kind") != "Cluster":
        found.append(f"kind is {doc.get('kind')!r}, expected 'Cluster'")
    if doc.get("apiVersion") != API_VERSION:
        found.append(f"apiVersion is {doc.get('apiVersion')!r}, expected {API_VERSION!r}")
    if not isinstance(doc.get("name"), str) or not doc["name"]:
        found.append("no cluster name")
    nodes = doc.get("nodes") or []
    if not any(isinstance(n, dict) and n.get("role") == "control-plane" for n in nodes):
        found.append("no control-plane node")
    seen = set()
    for i, node in enumerate(nodes):
        for j, m in enumerate((node or {}).get("extraPortMappings") or []):
            where = f"nodes[{i}].extraPortMappings[{j}]"
            for key in ("containerPort", "hostPort"):
                if not isinstance(m.get(key), int) or not 0 < m[key] < 65536:
                    found.append(f"{where}.{key} is not a port number: {m.get(key)!r}")
            if m.get("listenAddress") != LOOPBACK:
                found.append(
                    f"{where}.listenAddress is {m.get('listenAddress')!r}, expected {LOOPBACK!r}"
                )
            host_port = (m.get("hostPort"), m.get("protocol", "TCP"))
            if host_port in seen:
                found.append(f"{where}: host port {host_port[0]}/{host_port[1]} mapped twice")
            seen.add(host_port)
    return found


def main(paths):
    failed = 0
    for path in paths:
        try:
            found = problems(path)
        except (OSError, yaml.YAMLError) as err:
            found = [str(err)]
        if found:
            failed += 1
            for p in found:
                print(f"FAIL {path}: {p}")
        else:
            print(f"ok   {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
