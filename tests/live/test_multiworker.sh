#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: two workers, each with its own RX/TX queue pair on both
# net_af_packet ports (qpairs=2; the kernel fans packets out over the queues
# by flow hash). Replies come back on the outside hashed by a 5-tuple the
# client never sent, so many of them land on the worker that does not own
# the flow: they must be handed to the owner and every session must work.
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

live_require
live_topology_up

dir="$LIVE_TMP/mw"
conf=$(live_write_config "$dir" "$LIVE_REPO/config/memorystore/policy")
sed -i -e 's/^workers: 1$/workers: 2/' \
	-e "s/iface=$LIVE_IN_DEV\"/iface=$LIVE_IN_DEV,qpairs=2\"/" \
	-e "s/iface=$LIVE_OUT_DEV\"/iface=$LIVE_OUT_DEV,qpairs=2\"/" "$conf"
grep -q 'qpairs=2' "$conf" || live_die "config not rewritten for two queue pairs"
# three lcores (control + two workers) on this machine's two CPUs
LIVE_LCORES="--lcores 0@0,1@1,2@1" live_start_egressd "$conf" || live_die "egressd did not start"
live_check "ready with two workers" grep -q '^egressd: ready workers=2' "$EGRESSD_OUT"

# Many short sessions, each from its own source port: both workers own some.
ok=0
for ((i = 0; i < 40; i++)); do
	[[ "$(mesh_exec timeout 5 redis-cli -h "$LIVE_REDIS_HOST" -p 6379 PING 2>/dev/null)" == PONG ]] &&
		ok=$((ok + 1))
done
echo "  $ok of 40 sessions answered PONG"
live_check "every session through two workers answers" test "$ok" = 40
live_check "denied traffic is still denied" expect_timeout "$LIVE_REDIS_HOST" 6380

live_stop_egressd || live_fail "egressd did not stop cleanly"
handed=$(live_json_counter "$EGRESSD_FINAL_JSON" handed_off)
full=$(live_json_counter "$EGRESSD_FINAL_JSON" handoff_full)
created=$(live_json_counter "$EGRESSD_FINAL_JSON" flows_created)
echo "  flows_created=$created handed_off=$handed handoff_full=$full"
live_check "replies reached the other worker and were handed off" test "${handed:-0}" -gt 0
live_check "no handoff was lost" test "${full:-1}" = 0
# net_af_packet has no RSS key or RETA: NAT ports by share, replies handed off
pct=$(live_json_counter "$EGRESSD_FINAL_JSON" handed_off_percent)
echo "  handed_off_percent=$pct"
live_check "ports chosen by share, the hand-off fraction reported" \
	grep -q '"nat_port_choice":"share",' <<<"$EGRESSD_FINAL_JSON"
live_check "the hand-off fraction is above zero" python3 -c "import sys; sys.exit(not float('${pct:-0}') > 0)"
live_finish
