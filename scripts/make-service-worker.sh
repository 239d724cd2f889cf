#!/usr/bin/env bash
# trunk post_build hook: writes sw.js into the build with the list of every built file and a version
# derived from their contents, so each build that changes anything gets a new shell cache.
set -euo pipefail
staging="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$staging"
files=$(find . -type f ! -name sw.js | sed 's|^\./||' | LC_ALL=C sort)
version=$(printf '%s\n' $files | xargs sha256sum | sha256sum | cut -c1-16)
list=$(printf '%s\n' $files | awk 'BEGIN{printf "["} {printf "%s\"%s\"", (NR>1?",":""), $0} END{printf "]"}')
sed -e "s|__OFFGRID_VERSION__|${version}|" -e "s|__OFFGRID_PRECACHE__|${list}|" \
  "$here/service-worker/sw.js" > "$staging/sw.js"
echo "service worker: $(printf '%s\n' $files | wc -l) files precached, version ${version}"
