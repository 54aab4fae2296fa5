#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted backticks are Markdown for the table; the sh -c script expands in its child
# Log fan-in throughput: `ohdev logs --no-follow` over PODS pods × LINES lines each, against `cat`
# of the same files in the same run (both piped into `wc -l`, which also checks the line count).
# Runs against the kubectl stand-in (crates/fake-kube): no cluster, no Docker. The stand-in's own
# `kubectl logs` (one per pod, 8 at a time, as ohdev runs them) is timed too, to show what part of
# ohdev's time is the stand-in's.
#
#   scripts/bench-logs.sh            print the table
#   scripts/bench-logs.sh --append   also append it to BENCHMARKS.md under "## Logs"
#
# Environment: PODS (20), LINES (100000), RUNS (3; the best run counts).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pods="${PODS:-20}"
lines="${LINES:-100000}"
runs="${RUNS:-3}"
append=0
[ "${1:-}" = "--append" ] && append=1

cargo build --release --quiet -p ohdev -p fake-kube
target="${CARGO_TARGET_DIR:-$root/target}/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/project/kind"
ln -s "$target/fake-kube" "$work/bin/kind"
ln -s "$target/fake-kube" "$work/bin/kubectl"
export PATH="$work/bin:$PATH" FAKE_KUBE_STATE="$work/state" NO_COLOR=1
printf 'cluster:\n  name: bench\nimages: {}\nmanifests: []\n' >"$work/project/ohdev.yaml"
printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n' >"$work/project/kind/cluster.yaml"
kind create cluster --name bench --config "$work/project/kind/cluster.yaml" 2>/dev/null

manifest=""
for i in $(seq -w 1 "$pods"); do
    manifest+="apiVersion: v1
kind: Pod
metadata:
  name: pod-$i
  namespace: default
  labels: {app.kubernetes.io/managed-by: ohdev}
spec:
  containers:
  - name: main
    image: busybox:1.36
---
"
done
printf '%s' "$manifest" | kubectl --context kind-bench apply --server-side -f - >/dev/null
kubectl --context kind-bench get pods -A -o json >/dev/null

for i in $(seq -w 1 "$pods"); do
    dir="$FAKE_KUBE_STATE/logs/default/pod-$i"
    mkdir -p "$dir"
    awk -v pod="pod-$i" -v n="$lines" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "2025-06-01T12:00:00.%06dZ INFO %s request %07d handled in %d ms path=/api/items\n", i % 1000000, pod, i, i % 97
    }' >"$dir/main.log"
done
files=("$FAKE_KUBE_STATE"/logs/default/*/main.log)
total=$((pods * lines))
bytes=$(cat "${files[@]}" | wc -c)

# best_of NAME COMMAND…: run RUNS times, keep the fastest wall time; the output must be $total lines.
results=()
best_of() {
    local name="$1"
    shift
    local best="" start end elapsed count
    for _ in $(seq 1 "$runs"); do
        start=$(date +%s.%N)
        count=$("$@" | wc -l)
        end=$(date +%s.%N)
        if [ "$count" -ne "$total" ]; then
            echo "bench-logs: $name printed $count lines, expected $total" >&2
            exit 1
        fi
        elapsed=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$elapsed < $best" | bc -l)" -eq 1 ]; then best="$elapsed"; fi
    done
    results+=("$(printf '| %s | %.2f s | %.2f M lines/s | %.0f MB/s |' "$name" "$best" "$(echo "$total / $best / 1000000" | bc -l)" "$(echo "$bytes / $best / 1000000" | bc -l)")")
}

stand_in_alone() {
    printf '%s\n' "${files[@]}" | xargs -P 8 -I{} sh -c 'pod=$(basename "$(dirname "$1")"); kubectl --context kind-bench logs "$pod" -n default -c main' _ {}
}

best_of '`cat` of the log files' cat "${files[@]}"
best_of 'the stand-in'"'"'s `kubectl logs`, 8 at a time' stand_in_alone
best_of '`ohdev logs --no-follow`' "$target/ohdev" -C "$work/project" logs --no-follow
best_of '`ohdev --json logs --no-follow`' "$target/ohdev" -C "$work/project" --json logs --no-follow

table="$(printf '| %s pods × %s lines (%s MB), best of %s | wall | lines | bytes |\n|---|---|---|---|\n' "$pods" "$lines" "$((bytes / 1000000))" "$runs"; printf '%s\n' "${results[@]}")"
echo "$table"
if [ "$append" -eq 1 ]; then
    has_section=0
    grep -q '^## Logs' BENCHMARKS.md 2>/dev/null && has_section=1
    section_intro="Log fan-in throughput: \`scripts/bench-logs.sh\` (kubectl stand-in, output piped into \`wc -l\`)."
    {
        [ "$has_section" -eq 1 ] || printf '\n## Logs\n\n%s\n' "$section_intro"
        printf '\n%s, %s, %s cores:\n\n%s\n' "$(date -u +%Y-%m-%d)" "$(uname -sm)" "$(nproc)" "$table"
    } >>BENCHMARKS.md
fi
