#!/usr/bin/env bash
# trunk post_build hook: moves the inline <script type="module"> that trunk writes into index.html (it
# loads and starts the app's wasm) into its own file, app-init.js, so the Content Security Policy can
# forbid every inline script (script-src 'self', no hashes to keep in step with each build). Runs before
# make-service-worker.sh (scripts/post-build.sh chains them), so the new file is precached with the rest.
set -euo pipefail
staging="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
cd "$staging"
awk -v out="app-init.js" '
  !done && /<script type="module">/ { inside = 1; print "<script type=\"module\" src=\"./app-init.js\"></script>"; next }
  inside && /<\/script>/ { inside = 0; done = 1; next }
  inside { print > out; next }
  { print }
' index.html > index.html.new
mv index.html.new index.html
# The build must not ship an inline script: the policy would block it and the app would not start.
[ -s app-init.js ] || { echo "externalize-init: no inline module script found in index.html" >&2; exit 1; }
if grep -E '<script( [a-z]+="[^"]*")*>' index.html | grep -vq ' src='; then
  echo "externalize-init: index.html still has an inline <script>" >&2
  exit 1
fi
echo "app start-up moved to app-init.js ($(wc -c < app-init.js) bytes)"
