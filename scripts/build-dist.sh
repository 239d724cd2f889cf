#!/usr/bin/env bash
# Builds the deployable static site into dist/. All URLs are relative, so dist/ works on any static host
# under any path prefix (e.g. https://example.org/tools/offgrid/). Serve sw.js with the same origin.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
scripts/install-deps.sh build
trunk build --release "$@"
echo "dist/ is ready: $(du -sh dist | cut -f1)"
