#!/usr/bin/env bash
# Builds the app (release) and serves it on http://127.0.0.1:8080, installing what it needs first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
scripts/install-deps.sh build
exec trunk serve --release --address 127.0.0.1 --port 8080 "$@"
