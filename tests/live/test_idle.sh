#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: an idle worker backs off (poll: { idle: backoff }) or waits for an RX
# interrupt (poll: { idle: interrupt }), and only when idle.
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
#   run 3, poll: { idle: interrupt }, inside on net_tap (RX interrupts: the
#   TAP moved into the mesh namespace), outside still on net_af_packet
#   (none): the fallback:
#     - exactly one line says the outside device has no RX interrupts, and
#       the worker's line says it backs off (idle: backoff, and why);
#     - a PING answers; idle 3 s: idle_sleeps grew, the worker under 10 %;
#     - the final JSON: no wake-up of an interrupt wait (both 0).
#   run 4, poll: { idle: interrupt, max_sleep_us: 50000 }, both ports on
#   net_tap (the outside TAP moved into the external namespace):
#     - the start-up log says so, the worker's line says idle: interrupt, and
#       no line says a device has no RX interrupts;
#     - idle 3 s: the worker thread used under 2 % of them (it wakes every
#       50 ms: idle_wakeups_timeout grew), the process under 25 %;
#     - the first connection + PING after the idle time answers within 25 ms,
#       half the timeout, and an interrupt ended a wait meanwhile
#       (idle_wakeups_interrupt grew);
#     - 2000 PINGs on one connection all answer within 5 s (a worker that
#       waited its whole 50 ms at every gap would take 100 s);
#     - SIGTERM: exit 0; the final JSON: idle_sleeps = idle_wakeups_interrupt
#       + idle_wakeups_timeout, each above 0.
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IDLE_S=3
MAX_SLEEP_US=1000
IRQ_MAX_SLEEP_US=50000

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

# idle_checks RUN KEY WORKER_MAX [PROC_MAX]: idle IDLE_S seconds: the worker
# thread used under WORKER_MAX % of them, the process under PROC_MAX % (when
# given), and /egress/stats KEY grew meanwhile (the loop goes round: the
# systemd watchdog's dp_stats.loops moves with it).
idle_checks() {
	local run=$1 key=$2 wmax=$3 pmax=${4:-} s0 s1
	s0=$(stat_counter "$key") || s0=""
	if idle_share; then
		live_check "$run: the idle worker used under $wmax % of $IDLE_S s (${WORKER_PCT} %)" \
			pct_below "$WORKER_PCT" "$wmax"
		[[ -z "$pmax" ]] ||
			live_check "$run: the idle process used under $pmax % of one CPU (${PROC_PCT} %)" \
				pct_below "$PROC_PCT" "$pmax"
	else
		live_fail "$run: the worker thread's CPU time read from /proc"
	fi
	s1=$(stat_counter "$key") || s1=""
	live_check "$run: $key grew while idle (${s0:-none} -> ${s1:-none})" \
		test "${s1:-0}" -gt "${s0:-0}"
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
	idle_checks "run 1" idle_sleeps 10 25

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

# tap_into DEV NS ADDR/PREFIX [GATEWAY]: move egressd's TAP DEV (net_tap
# made it in this namespace) into NS, with ADDR and a default route via
# GATEWAY; IPv6 off, as on the veths.
tap_into() {
	local dev=$1 ns=$2 addr=$3 gw=${4:-}
	ip link set dev "$dev" netns "$ns" || return 1
	ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=1" || return 1
	ip -n "$ns" addr add "$addr" dev "$dev" || return 1
	ip -n "$ns" link set dev "$dev" up || return 1
	[[ -z "$gw" ]] || ip -n "$ns" route add default via "$gw" dev "$dev"
}

# veth_off NS DEV: the veth end DEV in NS without its address, down: a TAP
# takes over its address.
veth_off() {
	ip -n "$1" addr flush dev "$2" && ip -n "$1" link set dev "$2" down
}

# use_tap CONF PORT N DEV: the config's port PORT (inside / outside) on
# net_tapN,iface=DEV.
use_tap() {
	sed -i -E "s|^(  $2: +\{ device: )\"[^\"]*\"|\1\"net_tap$3,iface=$4\"|" "$1"
	grep -q "device: \"net_tap$3,iface=$4\"" "$1"
}

# no_irq_lines: the lines of the last egressd's log that say a device has
# no RX interrupts.
no_irq_lines() {
	grep -c "no RX interrupts (" "$EGRESSD_ERR" || true
}

run_fallback() {
	local conf s0 s1
	veth_off "$LIVE_MESH_NS" "$LIVE_IN_PEER" || live_die "run 3: $LIVE_IN_PEER down"
	conf=$(live_write_config "$LIVE_TMP/fallback" "$LIVE_REPO/config/memorystore/policy")
	sed -i "s/^poll: .*/poll: { idle: interrupt }/" "$conf"
	use_tap "$conf" inside 0 "$TAP_IN" || live_die "run 3: the inside port not put on net_tap"
	live_start_egressd "$conf" || live_die "run 3: egressd ready with poll.idle: interrupt"
	live_pass "run 3: egressd ready with poll.idle: interrupt, outside on net_af_packet"
	tap_into "$TAP_IN" "$LIVE_MESH_NS" "$LIVE_MESH_ADDR/$LIVE_INSIDE_PREFIX" "$LIVE_INSIDE_ADDR" ||
		live_die "run 3: $TAP_IN into $LIVE_MESH_NS"
	grep "no RX interrupts\|worker 0 (lcore" "$EGRESSD_ERR" | sed 's/^/  | /'
	live_check "run 3: one line says the outside device has no RX interrupts" \
		test "$(no_irq_lines)" = 1
	live_check "run 3: it names the device, and that its workers back off" \
		grep -q "net_af_packet1,iface=$LIVE_OUT_DEV: no RX interrupts (.*): its workers back off" "$EGRESSD_ERR"
	live_check "run 3: worker 0 says it backs off, and why" \
		grep -q "worker 0 (lcore [0-9]*): idle: backoff (the outside port has no RX interrupts)" "$EGRESSD_ERR"
	warm_up || live_fail "run 3: a first PING (neighbours resolved) answered PONG"
	live_check "run 3: a PING through net_tap and net_af_packet answers" \
		test "$(redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT")" = PONG
	idle_checks "run 3" idle_sleeps 10
	live_check "run 3: egressd stopped on SIGTERM with status 0" live_stop_egressd
	s0=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_wakeups_interrupt)
	s1=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_wakeups_timeout)
	live_check "run 3: no interrupt wait (idle_wakeups_interrupt ${s0:-none}, _timeout ${s1:-none})" \
		test "${s0:-x}:${s1:-x}" = 0:0
}

run_interrupt() {
	local conf s0 s1 i0 i1 t0 t1 ms sleeps
	veth_off "$LIVE_EXT_NS" "$LIVE_OUT_PEER" || live_die "run 4: $LIVE_OUT_PEER down"
	conf=$(live_write_config "$LIVE_TMP/interrupt" "$LIVE_REPO/config/memorystore/policy")
	sed -i "s/^poll: .*/poll: { idle: interrupt, max_sleep_us: $IRQ_MAX_SLEEP_US }/" "$conf"
	use_tap "$conf" inside 0 "$TAP_IN" || live_die "run 4: the inside port not put on net_tap"
	use_tap "$conf" outside 1 "$TAP_OUT" || live_die "run 4: the outside port not put on net_tap"
	live_start_egressd "$conf" || live_die "run 4: egressd ready with poll.idle: interrupt on net_tap"
	live_pass "run 4: egressd ready with poll.idle: interrupt, both ports on net_tap"
	tap_into "$TAP_IN" "$LIVE_MESH_NS" "$LIVE_MESH_ADDR/$LIVE_INSIDE_PREFIX" "$LIVE_INSIDE_ADDR" ||
		live_die "run 4: $TAP_IN into $LIVE_MESH_NS"
	tap_into "$TAP_OUT" "$LIVE_EXT_NS" "$LIVE_EXT_ADDR/$LIVE_OUTSIDE_PREFIX" ||
		live_die "run 4: $TAP_OUT into $LIVE_EXT_NS"
	grep "idle workers\|worker 0 (lcore" "$EGRESSD_ERR" | sed 's/^/  | /'
	live_check "run 4: the start-up log says idle workers wait for RX interrupts, up to $((IRQ_MAX_SLEEP_US / 1000)) ms" \
		grep -q "idle workers wait for RX interrupts: .* up to $((IRQ_MAX_SLEEP_US / 1000)) ms at a time (poll.idle: interrupt)" "$EGRESSD_ERR"
	live_check "run 4: worker 0 says idle: interrupt" \
		grep -q "worker 0 (lcore [0-9]*): idle: interrupt$" "$EGRESSD_ERR"
	live_check "run 4: no line says a device has no RX interrupts" test "$(no_irq_lines)" = 0
	warm_up || live_fail "run 4: a first PING (neighbours resolved) answered PONG"
	# waits time out while idle, one per IRQ_MAX_SLEEP_US at most
	idle_checks "run 4" idle_wakeups_timeout 2 25

	i0=$(stat_counter idle_wakeups_interrupt) || i0=""
	if ms=$(first_ping_ms); then
		echo "  first connection + PING after idle: $ms ms"
		live_check "run 4: the first PING after idle answered within 25 ms (half the timeout)" \
			pct_below "$ms" 25
	else
		live_fail "run 4: the first PING after idle answered PONG"
	fi
	i1=$(stat_counter idle_wakeups_interrupt) || i1=""
	live_check "run 4: an RX interrupt ended a wait (idle_wakeups_interrupt ${i0:-none} -> ${i1:-none})" \
		test "${i1:-0}" -gt "${i0:-0}"
	t0=$(date +%s%N)
	live_check "run 4: 2000 PINGs on one connection all answered" many_pings 2000
	t1=$(date +%s%N)
	live_check "run 4: ... within 5 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 5000

	live_check "run 4: egressd stopped on SIGTERM with status 0" live_stop_egressd
	sleeps=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_sleeps)
	i1=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_wakeups_interrupt)
	t1=$(live_json_counter "$EGRESSD_FINAL_JSON" idle_wakeups_timeout)
	live_check "run 4: final JSON: idle_sleeps ${sleeps:-none} = idle_wakeups_interrupt ${i1:-none} + idle_wakeups_timeout ${t1:-none}, each > 0" \
		test "${sleeps:-x}" = "$((${i1:-0} + ${t1:-0}))" -a "${i1:-0}" -gt 0 -a "${t1:-0}" -gt 0
}

main() {
	live_require
	live_topology_up
	TAP_IN=egti$LIVE_SFX
	TAP_OUT=egto$LIVE_SFX
	run_backoff
	run_busy
	run_fallback
	run_interrupt
	live_finish
}

main "$@"
