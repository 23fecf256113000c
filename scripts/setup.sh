#!/usr/bin/env bash
# Installs what `make run` / `make test` need, idempotently: Debian packages that are missing,
# the Python venv with pinned test dependencies, and npm packages. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_dir=.qw/stamps
mkdir -p "$stamp_dir"

# Debian packages this project needs at run or test time (espeak-ng and sox make test speech).
packages=(python3-venv espeak-ng sox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python venv with the pinned test dependencies (rebuilt when the requirements change).
req=tests/requirements.txt
if [[ ! -x .venv/bin/python || ! -f $stamp_dir/venv || $req -nt $stamp_dir/venv ]]; then
  echo "setup: preparing .venv"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp_dir/venv"
fi

# npm packages: the Node SDK suite, the Appwrite CLI used by tests, the JS migration runner.
for dir in tests/sdk-node tests/cli studio/js; do
  if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    echo "setup: npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
