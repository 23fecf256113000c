#!/usr/bin/env bash
# `make run`: the emulator on a persistent data folder, with a project and an API key that
# survive restarts, printed for pasting into an SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
data=.qw/data
mkdir -p "$data"
key_file=.qw/dev-api-key
[[ -s $key_file ]] || echo "standard_$(od -An -N128 -tx1 /dev/urandom | tr -d ' \n')" > "$key_file"
key=$(cat "$key_file")
project=${QW_PROJECT:-quixotic}
port=${QW_PORT:-8095}
cat <<MSG
QuixoticWhisper Studio — Appwrite emulator
  endpoint: http://127.0.0.1:$port/v1
  project:  $project
  api key:  $key
  data:     $data
Ctrl-C stops it; the data stays.
MSG
exec target/debug/qw emulator --port "$port" --data "$data" --project "$project" --api-key "$key"
