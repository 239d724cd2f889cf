#!/usr/bin/env bash
# trunk post_build hook. trunk starts the hooks of one stage at the same time, so the steps that must run in
# order are chained here: the start-up script leaves index.html first, then the service worker lists the
# finished set of files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/externalize-init.sh"
bash "$here/make-service-worker.sh"
