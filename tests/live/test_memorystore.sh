#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# End to end: the Istio Memorystore scenario through egressd on
# net_af_packet, real redis-cli in the "mesh" namespace, real redis-server in
# the "external" one (see lib.sh for the topology).
#
#   run 1, policy = the seed's two files with REDIS_ENDPOINT = 10.59.118.59
#          (config/memorystore/policy/):
#     - PING to 10.59.118.59:6379 answers PONG;
#     - the server sees the connection from the NAT address 203.0.113.10, both
#       in the client's own CLIENT LIST and from the server's side while a
#       connection is held open; never from the client's 10.8.0.2;
#     - 256 KiB go both ways intact (full-size segments, no offloads);
#     - /egress/stats answers on the telemetry socket with DESIGN.md's keys;
#     - 10.59.118.59:6380 and 10.59.118.60:6379 (both served) time out;
#     - SIGTERM: exit 0, one JSON line, drops.policy_denied > 0.
#   run 2, empty policy folder:
#     - 10.59.118.59:6379 times out;
#     - SIGTERM: exit 0, one JSON line, drops.policy_denied > 0.
#
# LIVE_PMD=af_xdp runs it all on net_af_xdp (test_memorystore_af_xdp.sh).
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POLICY_SRC="$LIVE_REPO/config/memorystore/policy"

# The connection running CLIENT LIST is listed by it: its addr= is how the
# server sees this client.
check_client_list_self() {
	local out self
	out=$(mesh_exec timeout 5 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" CLIENT LIST 2>&1) || true
	self=$(sed -n -E '/ cmd=client/s/^(.* )?addr=([^ ]+).*$/\2/p' <<<"$out" | head -n 1)
	echo "  client's own CLIENT LIST entry: addr=${self:-none}"
	[[ "$self" == "$LIVE_NAT_ADDR":* ]] || {
		echo "$out" | sed 's/^/  | /'
		return 1
	}
}

# Hold a connection from the mesh (BLPOP waits), and look at it from the
# server's side: a peer at the NAT address, none at the client's own address.
check_server_side_peer() {
	local pid addrs i ok=1
	ip netns exec "$LIVE_MESH_NS" timeout 15 redis-cli -h "$LIVE_REDIS_HOST" \
		-p "$LIVE_REDIS_PORT" BLPOP egressd:live:hold 10 >/dev/null 2>&1 &
	pid=$!
	live_track_pid "$pid"
	for ((i = 0; i < 50; i++)); do
		addrs=$(server_client_addrs "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" || true)
		grep -q "^$LIVE_NAT_ADDR:" <<<"$addrs" && break
		sleep 0.1
	done
	echo "  server-side peers: $(tr '\n' ' ' <<<"$addrs")"
	grep -q "^$LIVE_NAT_ADDR:" <<<"$addrs" || ok=0
	if grep -q "^$LIVE_MESH_ADDR:" <<<"$addrs"; then
		echo "  the client's own address reached the server"
		ok=0
	fi
	live_stop_pid "$pid" TERM 5 || true
	((ok))
}

# SET 256 KiB from the mesh, GET it back, compare.
check_bulk_roundtrip() {
	local data="$LIVE_TMP/bulk.txt" back="$LIVE_TMP/bulk.back" out
	head -c 196608 /dev/urandom | base64 -w 0 >"$data" # 256 KiB of text
	out=$(mesh_exec timeout 10 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" \
		-x SET egressd:live:bulk <"$data" 2>&1) || true
	if [[ "$out" != OK ]]; then
		echo "  SET: $out"
		return 1
	fi
	mesh_exec timeout 10 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" \
		--raw GET egressd:live:bulk >"$back" 2>&1 || true
	# --raw ends the value with a newline.
	if ! cmp -s <(cat "$data" && echo) "$back"; then
		echo "  GET returned $(wc -c <"$back") bytes, not the $(($(wc -c <"$data") + 1)) sent"
		return 1
	fi
}

# /egress/stats has at least the keys DESIGN.md promises.
check_telemetry_stats() {
	local out
	out=$(live_telemetry /egress/stats 2>&1) || {
		echo "  telemetry: $out"
		return 1
	}
	python3 - "$out" <<-'PY'
	import json
	import sys

	want = ["policy_generation", "reloads", "reload_failures", "last_reload_error",
	        "flows_active", "drops"]
	o = json.loads(sys.argv[1]).get("/egress/stats")
	if not isinstance(o, dict):
	    print("  /egress/stats: no object in", sys.argv[1][:300])
	    sys.exit(1)
	missing = [k for k in want if k not in o]
	if missing or not isinstance(o.get("drops"), dict):
	    print("  /egress/stats lacks", missing or "a drops object", "in", sys.argv[1][:300])
	    sys.exit(1)
	PY
}

# check_denied HOST PORT: the server answers PING from its own namespace (so a
# pass-through would connect), but from the mesh the connection times out.
check_denied() {
	local host=$1 port=$2 pong
	pong=$(ext_exec timeout 5 redis-cli -h "$host" -p "$port" PING 2>&1) || true
	if [[ "$pong" != PONG ]]; then
		echo "  the server at $host:$port itself does not answer: $pong"
		return 1
	fi
	expect_timeout "$host" "$port" | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}

# check_final_json: after SIGTERM, exit 0 and one valid JSON line whose drop
# counters show policy_denied > 0.
check_final_json() {
	local run=$1 denied
	if live_stop_egressd; then
		live_pass "run $run: egressd stopped on SIGTERM with status 0"
	else
		live_fail "run $run: egressd stop on SIGTERM (status ${EGRESSD_RC:-?})"
	fi
	echo "  final line: ${EGRESSD_FINAL_JSON:0:400}"
	if [[ -n "$EGRESSD_FINAL_JSON" ]] && live_json_valid "$EGRESSD_FINAL_JSON"; then
		live_pass "run $run: final counters are one valid JSON object"
	else
		live_fail "run $run: final counters are one valid JSON object"
		return 0
	fi
	denied=$(live_json_counter "$EGRESSD_FINAL_JSON" policy_denied || true)
	if [[ -n "$denied" ]] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$denied"; then
		live_pass "run $run: drops show policy_denied = $denied"
	else
		live_fail "run $run: drops show policy_denied > 0 (found: ${denied:-none})"
	fi
}

run_with_serviceentry() {
	local conf pong
	conf=$(live_write_config "$LIVE_TMP/run1" "$POLICY_SRC")
	if ! ls "$LIVE_TMP/run1/policy/"*.yaml >/dev/null 2>&1; then
		live_die "no policy files in $POLICY_SRC"
	fi
	live_start_egressd "$conf" || live_die "run 1: egressd ready with the seed's ServiceEntry"
	live_pass "run 1: egressd ready with the seed's ServiceEntry"
	live_check "run 1: the ports are ${LIVE_PMD:-af_packet} devices (egressd's log names them)" \
		grep -qF "$(live_device 0 "$LIVE_IN_DEV"): offloads:" "$EGRESSD_ERR"

	pong=$(redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT") || true
	echo "  redis-cli -h $LIVE_REDIS_HOST -p $LIVE_REDIS_PORT PING: $pong"
	if [[ "$pong" == PONG ]]; then
		live_pass "run 1: PING $LIVE_REDIS_HOST:$LIVE_REDIS_PORT through egressd answers PONG"
	else
		live_fail "run 1: PING $LIVE_REDIS_HOST:$LIVE_REDIS_PORT through egressd answers PONG"
	fi
	live_check "run 1: the server's CLIENT LIST shows the client as $LIVE_NAT_ADDR" \
		check_client_list_self
	live_check "run 1: a held connection is seen by the server from $LIVE_NAT_ADDR only" \
		check_server_side_peer
	live_check "run 1: 256 KiB SET and GET back intact" check_bulk_roundtrip
	live_check "run 1: /egress/stats on the telemetry socket has DESIGN.md's keys" \
		check_telemetry_stats
	live_check "run 1: another port on the same host ($LIVE_REDIS_HOST:$LIVE_REDIS_OTHER_PORT) times out" \
		check_denied "$LIVE_REDIS_HOST" "$LIVE_REDIS_OTHER_PORT"
	live_check "run 1: another host on the same port ($LIVE_REDIS_OTHER_HOST:$LIVE_REDIS_PORT) times out" \
		check_denied "$LIVE_REDIS_OTHER_HOST" "$LIVE_REDIS_PORT"
	check_final_json 1
}

run_with_empty_policy() {
	local conf
	conf=$(live_write_config "$LIVE_TMP/run2")
	live_start_egressd "$conf" || live_die "run 2: egressd ready with an empty policy folder"
	live_pass "run 2: egressd ready with an empty policy folder"
	live_check "run 2: without the ServiceEntry $LIVE_REDIS_HOST:$LIVE_REDIS_PORT times out" \
		check_denied "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT"
	check_final_json 2
}

main() {
	live_require
	live_topology_up
	run_with_serviceentry
	run_with_empty_policy
	live_finish
}

main "$@"
