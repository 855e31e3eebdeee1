#!/usr/bin/env bash
# Installs what the project needs and is missing, then builds every project.
# Sourced by tools/run.sh and tools/test.sh; safe to run again and again.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT_DIR"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

require() {
  local tool="$1" hint="$2"
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup: $tool is missing: $hint" >&2
    exit 1
  fi
}

require node "install Node.js 20 or newer"
require npm "install npm (it ships with Node.js)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
  echo "setup: Node.js $(node -v) is too old: install Node.js 20 or newer" >&2
  exit 1
fi
require openssl "install it (apt-get install openssl); the local gateway serves HTTPS with a self-signed pair"

# npm writes node_modules/.package-lock.json on every install, so a lock file
# newer than it means the installed packages are out of date.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

echo "setup: building"
npx nx run-many -t build --output-style=static >/dev/null || npx nx run-many -t build --output-style=static
# Builds restored from the Nx cache may lack the stub packages that let the
# compiled apps import the libraries; writing them again costs nothing.
node tools/build/link-libs.mjs
