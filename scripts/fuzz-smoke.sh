#!/usr/bin/env bash
# A short fuzz run of every cargo-fuzz target in fuzz/ (a few seconds each, from the committed
# seeds in fuzz/seeds/), failing on any crash, panic, timeout or allocation over 1 GB.
#
# Needs the nightly toolchain and cargo-fuzz. Without nightly it prints `fuzz-smoke: skipped: …`
# and exits 0; with nightly but no cargo-fuzz it installs it (`cargo install --locked cargo-fuzz`).
# The fuzz crate is built in its own target directory (FUZZ_TARGET_DIR, default fuzz/target), so
# it never invalidates the main build.
#
# Environment: FUZZ_SMOKE_SECONDS (per target, default 7), FUZZ_TARGET_DIR.
# Longer runs: see BENCHMARKS.md, "Fuzzing".
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
seconds="${FUZZ_SMOKE_SECONDS:-7}"
target_dir="${FUZZ_TARGET_DIR:-$repo/fuzz/target}"

skip() {
    echo "fuzz-smoke: skipped: $*"
    exit 0
}

command -v cargo >/dev/null 2>&1 || skip "cargo is not installed"
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain (rustup toolchain install nightly)"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: cargo-fuzz is not installed: cargo install --locked cargo-fuzz"
    started=$SECONDS
    if ! cargo install --locked cargo-fuzz; then
        skip "cargo-fuzz is absent and \`cargo install --locked cargo-fuzz\` failed"
    fi
    echo "fuzz-smoke: cargo-fuzz installed in $((SECONDS - started)) s"
fi

# Release with debug assertions and overflow checks, the same flags for build and run (no rebuild).
flags=(-O -a --target-dir "$target_dir")
started=$SECONDS
cargo +nightly fuzz build "${flags[@]}"
echo "fuzz-smoke: fuzz targets built in $((SECONDS - started)) s"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ohdev-fuzz-smoke.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

mapfile -t targets < <(cargo +nightly fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz-smoke: no fuzz targets found in fuzz/" >&2
    exit 1
fi

failed=()
started=$SECONDS
for target in "${targets[@]}"; do
    seeds="fuzz/seeds/$target"
    if [ ! -d "$seeds" ]; then
        echo "fuzz-smoke: $target has no seeds in $seeds" >&2
        failed+=("$target")
        continue
    fi
    # New inputs go to the scratch corpus (first directory); the committed seeds are only read.
    corpus="$scratch/corpus/$target"
    log="$scratch/$target.log"
    mkdir -p "$corpus"
    if cargo +nightly fuzz run "${flags[@]}" "$target" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=1024 \
        -print_final_stats=1 >"$log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
        echo "fuzz-smoke: $target: ok, ${runs:-?} executions in ${seconds} s"
    else
        echo "fuzz-smoke: $target: FAILED; the end of its log:" >&2
        tail -n 60 "$log" >&2
        failed+=("$target")
    fi
done
echo "fuzz-smoke: ${#targets[@]} targets fuzzed in $((SECONDS - started)) s"

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz-smoke: failed: ${failed[*]} (crash inputs are in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
