#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# egressd under the capability bounding set and NoNewPrivileges of the
# egressd.service the build generated (build/dist/egressd.service), as
# systemd would start it (setpriv: the same bounding set, no_new_privs),
# in the Memorystore topology (net_af_packet ports):
#   - it starts, the listed Redis answers PONG through it, an unlisted port
#     times out, and it stops on SIGTERM with status 0;
#   - control: the same set without CAP_NET_RAW, and egressd cannot open its
#     AF_PACKET ports and never gets ready (the bounding set is in force,
#     so the first check is about the unit's set and nothing wider).
# Not covered here: hugepages (the live tests run --no-huge: CAP_IPC_LOCK),
# vfio, AF_XDP, and the unit's file-system options (no systemd as PID 1).
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require setpriv
UNIT=${EGRESSD%/app/egressd/egressd}/dist/egressd.service
[[ -f "$UNIT" ]] || live_die "no $UNIT: build first"

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[[ -n "$caps" ]] || live_die "$UNIT has no CapabilityBoundingSet"
grep -qx 'NoNewPrivileges=true' "$UNIT" || live_die "$UNIT has no NoNewPrivileges=true"

# wrapper NAME CAPS...: a script that execs egressd with bounding set CAPS
# (setpriv's names: lower case, without CAP_) and no_new_privs.
wrapper() {
	local name=$1 set=-all c
	shift
	for c in "$@"; do
		c=${c#CAP_}
		set+=",+${c,,}"
	done
	cat >"$LIVE_TMP/$name" <<-EOF
	#!/bin/sh
	exec setpriv --bounding-set $set --no-new-privs "$EGRESSD" "\$@"
	EOF
	chmod 755 "$LIVE_TMP/$name"
	echo "$LIVE_TMP/$name"
}

live_topology_up
conf=$(live_write_config "$LIVE_TMP/caps" "$LIVE_REPO/config/memorystore/policy")
REAL_EGRESSD=$EGRESSD

# shellcheck disable=SC2086 # caps: one word per capability
EGRESSD=$(wrapper egressd-unit $caps)
if live_start_egressd "$conf"; then
	live_pass "ready under the unit's bounding set ($caps) and no_new_privs"
	live_check "the listed Redis answers PONG through egressd" \
		redis_ping "$LIVE_REDIS_HOST" 6379
	live_check "an unlisted port still times out" expect_timeout "$LIVE_REDIS_HOST" 6380
	if live_stop_egressd; then
		live_pass "stopped on SIGTERM with status 0"
	else
		live_fail "did not stop cleanly (status $EGRESSD_RC)"
	fi
else
	live_fail "egressd did not get ready under the unit's bounding set"
fi

# the control: without CAP_NET_RAW the AF_PACKET ports cannot open
# shellcheck disable=SC2086
EGRESSD=$(wrapper egressd-noraw ${caps//CAP_NET_RAW/})
LIVE_READY_TIMEOUT=10
if live_start_egressd "$conf" 2>/dev/null; then
	live_fail "control: ready without CAP_NET_RAW: the bounding set is not applied"
	live_stop_egressd || true
elif grep -q 'Could not open AF_PACKET socket' "$EGRESSD_ERR"; then
	live_pass "control: without CAP_NET_RAW it never gets ready (AF_PACKET socket refused)"
else
	live_fail "control: not ready without CAP_NET_RAW, but not for the AF_PACKET socket"
	tail -n 5 "$EGRESSD_ERR" | sed 's/^/  | /'
fi
EGRESSD=$REAL_EGRESSD
live_finish
