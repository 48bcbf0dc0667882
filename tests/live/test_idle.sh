#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: an idle worker backs off (poll: { idle: backoff }), and only when idle.
#
#   run 1, poll: { idle: backoff, max_sleep_us: 1000 }, the Memorystore policy:
#     - the start-up log says so;
#     - after 3 s without traffic the worker thread (/proc/PID/task/TID/stat,
#       utime + stime) used under 10 % of those 3 s, the whole process under
#       25 %; /egress/stats idle_sleeps grew meanwhile (the loop goes round:
#       the systemd watchdog's dp_stats.loops moves with it);
#     - the first connection after the idle time (connect + PING, timed in
#       one process in the mesh) answers PONG within 50 ms + max_sleep_us;
#     - 2000 PINGs on one connection all answer, and the cycle figures
#       (cycles_per_packet, cycles_per_packet_loop) are reported;
#     - SIGTERM: exit 0, the final JSON has idle_sleeps > 0.
#   run 2, poll: { idle: busy } (the default), the control:
#     - the start-up log says so;
#     - the worker thread used over 30 % of 3 idle seconds (a busy poll: about
#       100 % on an otherwise idle machine, less on a shared one), and
#       idle_sleeps stays 0.
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IDLE_S=3
MAX_SLEEP_US=1000

# cpu_ticks PID: "WORKER_TICKS PROCESS_TICKS" (utime + stime, clock ticks) of
# egressd's worker thread (named lcore-worker-N, rte-worker-N or
# dpdk-workerN by the EAL) and of the whole process.
cpu_ticks() {
	python3 - "$1" <<-'PY'
	import os
	import re
	import sys

	pid = sys.argv[1]

	def ticks(stat):
	    # the fields after the ")" that ends comm: utime, stime are 14, 15
	    f = stat[stat.rindex(")") + 2:].split()
	    return int(f[11]) + int(f[12])

	worker = None
	names = []
	for tid in os.listdir(f"/proc/{pid}/task"):
	    with open(f"/proc/{pid}/task/{tid}/comm") as f:
	        comm = f.read().strip()
	    names.append(comm)
	    if re.match(r"(lcore|rte|dpdk)-?worker", comm):
	        with open(f"/proc/{pid}/task/{tid}/stat") as f:
	            worker = ticks(f.read())
	if worker is None:
	    print("no worker thread among", names, file=sys.stderr)
	    sys.exit(1)
	with open(f"/proc/{pid}/stat") as f:
	    print(worker, ticks(f.read()))
	PY
}

# idle_share: let egressd idle IDLE_S seconds; sets WORKER_PCT and PROC_PCT,
# the CPU time its worker and the whole process used, in percent of that.
idle_share() {
	local hz a b t0 t1
	hz=$(getconf CLK_TCK)
	read -r -a a < <(cpu_ticks "$EGRESSD_PID") || return 1
	t0=$(date +%s%N)
	sleep "$IDLE_S"
	read -r -a b < <(cpu_ticks "$EGRESSD_PID") || return 1
	t1=$(date +%s%N)
	read -r WORKER_PCT PROC_PCT < <(python3 -c '
import sys
hz, wall = int(sys.argv[1]), (int(sys.argv[3]) - int(sys.argv[2])) / 1e9
w = (int(sys.argv[6]) - int(sys.argv[4])) / hz
p = (int(sys.argv[7]) - int(sys.argv[5])) / hz
print(f"{100 * w / wall:.1f} {100 * p / wall:.1f}")' "$hz" "$t0" "$t1" "${a[0]}" "${a[1]}" "${b[0]}" "${b[1]}")
	echo "  over $IDLE_S idle seconds: worker thread ${WORKER_PCT} % CPU, process ${PROC_PCT} %"
}

# pct_below X LIMIT / pct_above X LIMIT: X < LIMIT / X > LIMIT (decimals)
pct_below() {
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"
}

pct_above() {
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$1" "$2"
}

# stat_counter KEY: KEY of /egress/stats now.
stat_counter() {
	local out
	out=$(live_telemetry /egress/stats) || return 1
	live_json_counter "$out" "$1"
}

# first_ping_ms: from the mesh, connect to the Memorystore stand-in and PING
# it, in one process: prints the milliseconds from connect() to PONG.
first_ping_ms() {
	mesh_exec timeout 5 python3 - "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" <<-'PY'
	import socket
	import sys
	import time

	t0 = time.monotonic()
	s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)
	s.sendall(b"PING\r\n")
	buf = b""
	while not buf.endswith(b"\r\n"):
	    chunk = s.recv(64)
	    if not chunk:
	        break
	    buf += chunk
	ms = (time.monotonic() - t0) * 1000
	if buf != b"+PONG\r\n":
	    print(f"answer {buf!r}", file=sys.stderr)
	    sys.exit(1)
	print(f"{ms:.2f}")
	PY
}

# warm_up: one PING through egressd, so that the neighbours on both sides
# are resolved (the very first SYN waits for ARP, and the client's kernel
# resends it after 1 s): what is timed after the idle seconds is the
# worker's wake-up, not ARP. Then a second for the first sweep round.
warm_up() {
	local pong
	pong=$(redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT") || true
	sleep 1
	[[ "$pong" == PONG ]]
}

# many_pings N: N PINGs on one connection (redis-cli -r), all PONG; says
# how long they took (one round trip after the other: a sleeping worker
# would show here).
many_pings() {
	local n=$1 got t0 t1
	t0=$(date +%s%N)
	got=$(mesh_exec timeout 20 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" -r "$n" PING 2>&1 |
		grep -c '^PONG$' || true)
	t1=$(date +%s%N)
	echo "  $got of $n PINGs answered PONG in $(((t1 - t0) / 1000000)) ms"
	[[ "$got" == "$n" ]]
}

# cycles_reported: /egress/stats has both cycle figures, above 0.
cycles_reported() {
	local out c l
	out=$(live_telemetry /egress/stats) || return 1
	c=$(live_json_counter "$out" cycles_per_packet)
	l=$(live_json_counter "$out" cycles_per_packet_loop)
	echo "  cycles_per_packet=${c:-none} cycles_per_packet_loop=${l:-none}"
	[[ -n "$c" && -n "$l" ]] && pct_above "$c" 0 && pct_above "$l" 0
}

run_backoff() {
	local conf s0 s1 ms
	conf=$(live_write_config "$LIVE_TMP/backoff" "$LIVE_REPO/config/memorystore/policy")
	sed -i "s/^poll: .*/poll: { idle: backoff, max_sleep_us: $MAX_SLEEP_US }/" "$conf"
	grep -q "^poll: { idle: backoff, max_sleep_us: $MAX_SLEEP_US }$" "$conf" ||
		live_die "run 1: the config's poll line not rewritten"
	live_start_egressd "$conf" || live_die "run 1: egressd ready with poll.idle: backoff"
	live_pass "run 1: egressd ready with poll.idle: backoff"
	live_check "run 1: the start-up log says idle workers back off, up to $MAX_SLEEP_US us" \
		grep -q "idle workers back off: .* up to $MAX_SLEEP_US us at a time" "$EGRESSD_ERR"
	warm_up || live_fail "run 1: a first PING (neighbours resolved) answered PONG"
	s0=$(stat_counter idle_sleeps) || s0=""
	if idle_share; then
		live_check "run 1: the idle worker used under 10 % of $IDLE_S s (${WORKER_PCT} %)" \
			pct_below "$WORKER_PCT" 10
		live_check "run 1: the idle process used under 25 % of one CPU (${PROC_PCT} %)" \
			pct_below "$PROC_PCT" 25
	else
		live_fail "run 1: the worker thread's CPU time read from /proc"
	fi
	s1=$(stat_counter idle_sleeps) || s1=""
	echo "  idle_sleeps: ${s0:-none} -> ${s1:-none}"
	live_check "run 1: idle_sleeps grew while idle (the loop goes round)" \
		test "${s1:-0}" -gt "${s0:-0}"

	if ms=$(first_ping_ms); then
		echo "  first connection + PING after idle: $ms ms"
		live_check "run 1: the first PING after idle answered within $((50 + MAX_SLEEP_US / 1000)) ms" \
			pct_below "$ms" "$((50 + MAX_SLEEP_US / 1000))"
	else
		live_fail "run 1: the first PING after idle answered PONG"
	fi
	s0=$(stat_counter idle_sleeps) || s0=""
	live_check "run 1: 2000 PINGs on one connection all answered" many_pings 2000
	s1=$(stat_counter idle_sleeps) || s1=""
	echo "  idle_sleeps during them: $((${s1:-0} - ${s0:-0})) (gaps of more than 200 us)"
	live_check "run 1: the cycle figures are reported" cycles_reported

	if live_stop_egressd; then
		live_pass "run 1: egressd stopped on SIGTERM with status 0"
	else
		live_fail "run 1: egressd stopped on SIGTERM with status 0 (${EGRESSD_RC:-?})"
	fi
	s1=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_sleeps)
	live_check "run 1: the final JSON counts idle_sleeps (${s1:-none})" test "${s1:-0}" -gt 0
}

run_busy() {
	local conf s1 ms
	conf=$(LIVE_POLL_IDLE=busy live_write_config "$LIVE_TMP/busy" "$LIVE_REPO/config/memorystore/policy")
	live_start_egressd "$conf" || live_die "run 2: egressd ready, busy polling"
	live_pass "run 2: egressd ready, busy polling"
	live_check "run 2: the start-up log says idle workers poll on" \
		grep -q "idle workers poll on (poll.idle: busy)" "$EGRESSD_ERR"
	warm_up || live_fail "run 2: a first PING (neighbours resolved) answered PONG"
	if idle_share; then
		live_check "run 2: the busy worker used over 30 % of $IDLE_S idle s (${WORKER_PCT} %)" \
			pct_above "$WORKER_PCT" 30
	else
		live_fail "run 2: the worker thread's CPU time read from /proc"
	fi
	if ms=$(first_ping_ms); then
		echo "  first connection + PING, busy polling: $ms ms"
	fi
	live_check "run 2: 2000 PINGs on one connection all answered" many_pings 2000
	live_check "run 2: egressd stopped on SIGTERM with status 0" live_stop_egressd
	s1=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_sleeps)
	live_check "run 2: busy polling never slept (idle_sleeps ${s1:-none})" test "${s1:-x}" = 0
}

main() {
	live_require
	live_topology_up
	run_backoff
	run_busy
	live_finish
}

main "$@"
