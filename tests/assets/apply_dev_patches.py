#!/usr/bin/env python3
"""Write the manifests an ohdev.yaml's `dev.patches` change, patched, for validation.

Usage: apply_dev_patches.py OHDEV_YAML MANIFEST_DIR OUT_DIR
Applies each `dev.patches` entry (RFC 6902 add, replace, remove; `-` appends to a list, as
ohdev does) to the object of MANIFEST_DIR it targets, and writes each patched object to
OUT_DIR/<kind>-<name>.yaml, so that scripts/asset-checks.sh validates the dev-mode objects
with kubernetes-validate like the production ones. Exits 1 naming a patch whose target is
not in MANIFEST_DIR or whose path does not resolve.
"""

import os
import sys

import yaml


def unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def apply(document, op):
    tokens = [unescape(t) for t in op["path"].split("/")[1:]]
    parent = document
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    kind = op["op"]
    if isinstance(parent, list):
        if kind == "add":
            parent.insert(len(parent) if last == "-" else int(last), op["value"])
        elif kind == "replace":
            parent[int(last)] = op["value"]
        else:
            del parent[int(last)]
    else:
        if kind in ("add", "replace"):
            parent[last] = op["value"]
        else:
            del parent[last]


def main(ohdev_yaml, manifest_dir, out_dir):
    with open(ohdev_yaml, encoding="utf-8") as f:
        patches = ((yaml.safe_load(f) or {}).get("dev") or {}).get("patches") or []
    documents = []
    for root, _, files in os.walk(manifest_dir):
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    documents.extend(d for d in yaml.safe_load_all(f) if d)
    patched = {}
    for index, patch in enumerate(patches):
        target = patch["target"]
        matches = [
            d
            for d in documents
            if d.get("kind") == target["kind"]
            and d.get("metadata", {}).get("name") == target["name"]
            and target.get("namespace") in (None, d.get("metadata", {}).get("namespace"))
        ]
        if not matches:
            print(f"dev.patches[{index}]: {target} is not in {manifest_dir}", file=sys.stderr)
            return 1
        for document in matches:
            for op in patch["ops"]:
                try:
                    apply(document, op)
                except (KeyError, IndexError, ValueError, TypeError) as error:
                    print(f"dev.patches[{index}] {op['op']} {op['path']}: {error!r}", file=sys.stderr)
                    return 1
            patched[(document["kind"], document["metadata"]["name"])] = document
    os.makedirs(out_dir, exist_ok=True)
    for (kind, name), document in sorted(patched.items()):
        path = os.path.join(out_dir, f"{kind.lower()}-{name}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(document, f, sort_keys=False)
        print(path)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
