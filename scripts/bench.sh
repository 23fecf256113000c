#!/usr/bin/env bash
# `make bench`: runs every benchmark against release builds and writes bench/RESULTS.md with the
# machine it ran on. Each benchmark writes its own section to bench/results/<name>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"

echo "bench: core (start, memory, documents)"
target/release/qw-bench core target/release/qw > "$out/core.md"

# Benchmarks written in Python (storage, functions, transcription, …) follow the same contract:
# `bench/<name>_bench.py <path to qw>` prints a Markdown section.
for script in bench/*_bench.py; do
  [[ -e $script ]] || continue
  name=$(basename "$script" _bench.py)
  echo "bench: $name"
  .venv/bin/python "$script" target/release/qw > "$out/$name.md"
done

{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) (release build, loopback HTTP)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)."
  echo
  for f in "$out"/*.md; do
    cat "$f"
    echo
  done
  [[ -f bench/NOTES.md ]] && cat bench/NOTES.md
} > bench/RESULTS.md
echo "bench: wrote bench/RESULTS.md"
