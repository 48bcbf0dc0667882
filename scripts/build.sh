#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Configure (or reconfigure) a meson build folder and build it with ninja.
#
# Usage: scripts/build.sh [BUILDDIR] [MESON_ARGS...]
#   BUILDDIR     build folder, relative to the repository root; default: build
#   MESON_ARGS   passed to `meson setup`, e.g. -Dsanitize=true -Dbuildtype=debug
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILDDIR=build
if (($# > 0)) && [[ "$1" != -* ]]; then
	BUILDDIR=$1
	shift
fi

log() {
	echo "build: $*" >&2
}

configure() {
	if [[ -f "$BUILDDIR/meson-private/coredata.dat" ]]; then
		if (($# == 0)); then
			# Already configured and nothing to change: ninja itself
			# reruns meson when a meson.build changed.
			return 0
		fi
		log "reconfiguring $BUILDDIR with: $*"
		if meson setup --reconfigure "$BUILDDIR" "$@"; then
			return 0
		fi
		log "reconfigure failed; wiping $BUILDDIR and configuring afresh"
		meson setup --wipe "$BUILDDIR" "$@"
		return
	fi
	log "configuring $BUILDDIR${*:+ with: $*}"
	meson setup "$BUILDDIR" "$@"
}

main() {
	configure "$@"
	ninja -C "$BUILDDIR"
}

main "$@"
