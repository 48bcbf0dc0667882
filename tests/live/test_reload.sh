#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: the policy changes under traffic and no allowed packet is lost.
#
#   - while redis-benchmark runs against 10.59.118.59:6379 (allowed all
#     along), a ServiceEntry for 6380 is renamed into the watched folder:
#     6380 answers within 5 s;
#   - a session held open on 6380 is ended (RST) when that file is removed,
#     and new 6380 connections time out;
#   - a broken file changes nothing (generation stays, reload_failures + 1,
#     last_reload_error names the file), 6379 keeps working;
#   - SIGHUP and /egress/reload each publish a new generation;
#   - the policy folder removed and created again (a remount) is read and
#     watched again: a file removed from the new folder is a reload;
#   - redis-benchmark ends without a single error;
#   - egressd stops with status 0 while /egress/stats and /egress/flows are
#     being read back to back (teardown and telemetry callbacks).
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stat_field() {
	live_telemetry /egress/stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["/egress/stats"][sys.argv[1]])' "$1"
}

# write_entry FILE PORT: a ServiceEntry for 10.59.118.59:PORT, written
# aside and renamed into place as editors and kubectl's ConfigMaps do.
write_entry() {
	local file=$1 port=$2
	cat >"$file.tmp" <<-EOF
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata:
	  name: redis-$port
	spec:
	  hosts: [redis-$port.memorystore.internal]
	  addresses: [$LIVE_REDIS_HOST]
	  ports:
	  - {number: $port, name: tcp-redis-$port, protocol: TCP}
	  location: MESH_EXTERNAL
	  resolution: NONE
	EOF
	mv "$file.tmp" "$file"
}

# answers_within_5s PORT: redis on PORT answers PING within 5 s.
answers_within_5s() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ "$(mesh_exec timeout 1 redis-cli -h "$LIVE_REDIS_HOST" -p "$1" PING 2>/dev/null)" == PONG ]] &&
			return 0
		sleep 0.1
	done
	return 1
}

live_require redis-benchmark
live_topology_up

dir="$LIVE_TMP/reload"
conf=$(live_write_config "$dir" "$LIVE_REPO/config/memorystore/policy")
policy="$dir/policy"
live_start_egressd "$conf" || live_die "egressd did not start"
live_check "6379 answers before any change" redis_ping "$LIVE_REDIS_HOST" 6379
live_check "6380 times out before its ServiceEntry exists" expect_timeout "$LIVE_REDIS_HOST" 6380

# Traffic that must not notice anything: allowed before, during and after.
# Short runs back to back until told to stop, so every run's own verdict
# is kept; a run that fails says so.
bench_out="$LIVE_TMP/benchmark.out"
bench_stop="$LIVE_TMP/benchmark.stop"
ip netns exec "$LIVE_MESH_NS" timeout 120 bash -c '
	while [[ ! -e "$1" ]]; do
		redis-benchmark -h "$2" -p 6379 -c 8 -n 5000 -t ping,set,get -q ||
			echo "RUN FAILED: exit $?"
	done' _ "$bench_stop" "$LIVE_REDIS_HOST" >"$bench_out" 2>&1 &
bench_pid=$!
live_track_pid "$bench_pid"
sleep 1

gen0=$(stat_field policy_generation)
write_entry "$policy/redis-6380.yaml" 6380
live_check "a file renamed into the folder allows 6380 within 5 s" answers_within_5s 6380
live_check "the change published one new generation" test "$(stat_field policy_generation)" -gt "$gen0"

# An open 6380 session, ended when its ServiceEntry goes away.
hold_out="$LIVE_TMP/hold.out"
ip netns exec "$LIVE_MESH_NS" timeout 30 redis-cli -h "$LIVE_REDIS_HOST" -p 6380 \
	BLPOP egressd:reload:hold 25 >"$hold_out" 2>&1 &
hold_pid=$!
live_track_pid "$hold_pid"
sleep 0.5
rm "$policy/redis-6380.yaml"
ended=0
for ((i = 0; i < 50; i++)); do
	if ! kill -0 "$hold_pid" 2>/dev/null; then
		ended=1
		break
	fi
	sleep 0.1
done
live_stop_pid "$hold_pid" || true
echo "  held 6380 session said: $(tr '\n' ' ' <"$hold_out")"
live_check "removing the file ends the open 6380 session within 5 s" test "$ended" = 1
live_check "the session was reset, not timed out" grep -qi "reset\|closed\|error" "$hold_out"
live_check "new 6380 connections time out again" expect_timeout "$LIVE_REDIS_HOST" 6380

# A broken file: nothing changes.
gen1=$(stat_field policy_generation)
fail0=$(stat_field reload_failures)
printf 'apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: broken\nspec: [\n' \
	>"$policy/broken.yaml.tmp"
mv "$policy/broken.yaml.tmp" "$policy/broken.yaml"
for ((i = 0; i < 30; i++)); do
	[[ "$(stat_field reload_failures)" -gt "$fail0" ]] && break
	sleep 0.1
done
live_check "a broken file is a failed reload" test "$(stat_field reload_failures)" -gt "$fail0"
live_check "the running generation stays" test "$(stat_field policy_generation)" = "$gen1"
live_check "last_reload_error names the file" \
	bash -c "[[ \"\$1\" == *broken.yaml:* ]]" _ "$(stat_field last_reload_error)"
live_check "6379 still answers" redis_ping "$LIVE_REDIS_HOST" 6379
rm "$policy/broken.yaml"
sleep 0.5

# SIGHUP and /egress/reload.
gen2=$(stat_field policy_generation)
kill -HUP "$EGRESSD_PID"
for ((i = 0; i < 30; i++)); do
	[[ "$(stat_field policy_generation)" -gt "$gen2" ]] && break
	sleep 0.1
done
live_check "SIGHUP publishes a new generation" test "$(stat_field policy_generation)" -gt "$gen2"
gen3=$(stat_field policy_generation)
reply=$(live_telemetry /egress/reload)
echo "  /egress/reload: $reply"
live_check "/egress/reload answers ok" grep -q '"result": *"ok"' <<<"$reply"
live_check "/egress/reload publishes a new generation" test "$(stat_field policy_generation)" -gt "$gen3"

# The policy folder removed and created again whole (a ConfigMap volume
# remounted): the new folder is read, and watched, so its next change is
# seen too (the watch once stayed on the removed folder).
rm -rf "$policy.new"
cp -r "$policy" "$policy.new"
write_entry "$policy.new/redis-6380.yaml" 6380
rm -rf "$policy" && mv "$policy.new" "$policy"
live_check "a policy folder created again is read (6380 allowed within 5 s)" answers_within_5s 6380
sleep 0.5
gen4=$(stat_field policy_generation)
rm "$policy/redis-6380.yaml"
for ((i = 0; i < 50; i++)); do
	[[ "$(stat_field policy_generation)" -gt "$gen4" ]] && break
	sleep 0.1
done
live_check "the folder created again is watched: a file removed is a reload" \
	test "$(stat_field policy_generation)" -gt "$gen4"
live_check "6380 times out again" expect_timeout "$LIVE_REDIS_HOST" 6380

# /egress/rules, from several clients at once (each a QSBR reader of its
# own): every answer a listing of the running rules, or "busy"
rules_pids=()
for i in 1 2 3 4 5 6; do
	live_telemetry /egress/rules >"$LIVE_TMP/rules.$i" 2>&1 &
	rules_pids+=($!)
done
wait "${rules_pids[@]}" || true
live_check "/egress/rules from 6 clients at once: listings (or busy), 6379 in them" \
	bash -c 'for f in "$@"; do
		grep -q "6379/tcp\|busy" "$f" || { cat "$f"; exit 1; }
	done; grep -q "6379/tcp" "$@"' _ "$LIVE_TMP"/rules.[1-6]

# The benchmark saw none of it.
touch "$bench_stop"
live_stop_pid "$bench_pid" TERM 30 || true
runs=$(tr '\r' '\n' <"$bench_out" | grep -c 'GET: .*requests per second' || true)
echo "  redis-benchmark: $runs complete runs of PING/SET/GET x 5000 during the reloads"
live_check "redis-benchmark on 6379 saw no error" \
	bash -c '! grep -qiE "error|reset|refused|failed" "$1"' _ "$bench_out"
live_check "redis-benchmark completed runs across the reloads" test "$runs" -ge 2

# stopped while telemetry is being read: teardown waits for the callback
# in progress and refuses later ones (it used to free what they read)
live_telemetry_hammer "$LIVE_TMP/hammer.count"
sleep 1
live_check "egressd stops cleanly (status 0) while telemetry is read" live_stop_egressd
live_stop_pid "$HAMMER_PID" TERM 10 || true
echo "  telemetry answers during the stop: $(cat "$LIVE_TMP/hammer.count" 2>/dev/null || echo ?)"
revoked=$(live_json_counter "$EGRESSD_FINAL_JSON" flows_revoked)
live_check "the final counters show the revoked session" test "${revoked:-0}" -ge 1
live_finish
