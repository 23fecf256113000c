#!/usr/bin/env bash
# `make bench`: runs every benchmark against the release build and writes bench/RESULTS.md with
# the machine it ran on. Each benchmark leaves its own Markdown section in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
export QW_BIN=$PWD/target/release/qw
py=.venv/bin/python

run() { # name, command…
  local name=$1
  shift
  echo "bench: $name"
  "$@"
}

# QW_BENCH_COMPOSE_ONLY=1 rewrites bench/RESULTS.md from the sections already in bench/results/.
if [[ -z ${QW_BENCH_COMPOSE_ONLY:-} ]]; then
run core sh -c "target/release/qw-bench core '$QW_BIN' > '$out/core.md'"
run "bulk writes and transactions" sh -c "$py bench/dbx_bench.py --qw '$QW_BIN' --runs 3 > '$out/dbx.md'"
run functions $py bench/functions_bench.py --out "$out/functions.md"
run transcription $py bench/transcription_bench.py --out "$out/transcription.md"
run backend $py bench/backend_bench.py --out "$out/backend.md"
for script in bench/storage_bench.py bench/migrations_bench.py; do
  [[ -e $script ]] || continue
  name=$(basename "$script" _bench.py)
  run "$name" sh -c "$py $script --qw '$QW_BIN' > '$out/$name.md'"
done
fi

declare -A titles=([dbx]="Bulk writes and transactions" [storage]="Storage: 100 MiB upload and download")

{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) (release build, loopback HTTP)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)."
  echo
  for f in core dbx storage functions transcription migrations backend; do
    [[ -f $out/$f.md ]] || continue
    if [[ $(head -c1 "$out/$f.md") != "#" ]]; then
      echo "## ${titles[$f]:-$f}"
      echo
    fi
    cat "$out/$f.md"
    echo
  done
  [[ -f bench/NOTES.md ]] && cat bench/NOTES.md
} > bench/RESULTS.md
echo "bench: wrote bench/RESULTS.md"
