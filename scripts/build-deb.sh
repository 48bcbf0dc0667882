#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the Debian package out of tree and check it with lintian: the
# source (tracked files and new ones git does not ignore) is copied to a
# temporary folder, built there with `dpkg-buildpackage -b -us -uc`, and the
# .deb and lintian's report land in OUTDIR. The checkout is not touched.
#
# Slow (a full optimised build): not part of scripts/test.sh.
#
# Usage: scripts/build-deb.sh [OUTDIR]     (default /tmp/egressd-deb)
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends of
# debian/control (dpkg-checkbuilddeps names what is missing).
# Exit: 0 built and lintian reports no error, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-/tmp/egressd-deb}

log() {
	echo "build-deb: $*" >&2
}

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null 2>&1 || {
		log "$tool missing: apt-get install dpkg-dev debhelper lintian"
		exit 1
	}
done

WORK=$(mktemp -d /tmp/egressd-deb-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/egressd
mkdir -p "$SRC" "$OUT"
# the tree as git sees it, build folders and ignored files left out
(cd "$ROOT" && git ls-files -z -co --exclude-standard) |
	(cd "$ROOT" && xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$SRC"

cd "$SRC"
if ! dpkg-checkbuilddeps; then
	log "install the missing Build-Depends above, then run this again"
	exit 1
fi
log "building in $SRC"
if ! dpkg-buildpackage -b -us -uc >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	log "dpkg-buildpackage failed (whole log: $OUT/build.log)"
	exit 1
fi
changes=("$WORK"/egressd_*.changes)
debs=("$WORK"/*.deb)
cp "${debs[@]}" "$OUT/"
log "built: ${debs[*]##*/} (in $OUT)"

# lintian's exit status is 1 on errors (E:) with its default --fail-on
rc=0
lintian --info --display-info "${changes[0]}" >"$OUT/lintian.txt" 2>&1 || rc=$?
cat "$OUT/lintian.txt"
errors=$(grep -c '^E: ' "$OUT/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$OUT/lintian.txt" || true)
log "lintian: $errors error(s), $warnings warning(s) (report: $OUT/lintian.txt)"
((rc == 0 && errors == 0))
