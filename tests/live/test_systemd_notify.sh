#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# egressd's systemd notifications (app/egressd/service.c), received on a
# NOTIFY_SOCKET of this test's own, as systemd would receive them, with
# WATCHDOG_USEC=1 s set as WatchdogSec=1s would set it, in the Memorystore
# topology (net_af_packet ports):
#   - READY=1 once it forwards (the listed Redis answers PONG);
#   - WATCHDOG=1 every 500 ms (half the period) while the workers run;
#   - SIGHUP (ExecReload): RELOADING=1 with MONOTONIC_USEC, then READY=1;
#     a reload of a broken policy: RELOADING=1, then READY=1 whose STATUS
#     says it was rejected;
#   - a worker stalled (its thread alone stopped with ptrace, the way a hung
#     PMD or a livelock would hold it): no WATCHDOG=1 while it is held, the
#     log names the worker; resumed: WATCHDOG=1 again;
#   - STOPPING=1 on SIGTERM.
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require python3

live_topology_up
conf=$(live_write_config "$LIVE_TMP/notify" "$LIVE_REPO/config/memorystore/policy")

# the listener: every datagram, one line per message, after its CLOCK_MONOTONIC
sock="$LIVE_TMP/notify.sock"
msgs="$LIVE_TMP/notify.log"
python3 - "$sock" "$msgs" <<-'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        data = s.recv(4096).decode()
        out.write("%.3f %s\n" % (time.monotonic(), data.replace("\n", "|")))
PY
listener=$!
live_track_pid "$listener"
for ((i = 0; i < 50; i++)); do [[ -S "$sock" ]] && break; sleep 0.1; done

export NOTIFY_SOCKET=$sock WATCHDOG_USEC=1000000
unset WATCHDOG_PID
live_start_egressd "$conf" || live_die "egressd did not start"
unset NOTIFY_SOCKET WATCHDOG_USEC

# wait_msg PATTERN [AFTER]: a message matching PATTERN (grep -E) arrives
# after line AFTER of the log, within 5 s
wait_msg() {
	local i
	for ((i = 0; i < 50; i++)); do
		tail -n +"$((${2:-0} + 1))" "$msgs" | grep -qE "$1" && return 0
		sleep 0.1
	done
	return 1
}
lines() { wc -l <"$msgs"; }

live_check "READY=1 once it forwards" wait_msg ' READY=1\|STATUS=forwarding$'
live_check "the listed Redis answers PONG" redis_ping "$LIVE_REDIS_HOST" 6379

n0=$(grep -c 'WATCHDOG=1' "$msgs" || true)
sleep 3
n1=$(grep -c 'WATCHDOG=1' "$msgs" || true)
live_log "WATCHDOG=1 in 3 s: $((n1 - n0))"
live_check "WATCHDOG=1 every 500 ms while the workers run (5 to 7 in 3 s)" \
	test "$((n1 - n0))" -ge 5 -a "$((n1 - n0))" -le 7

at=$(lines)
kill -HUP "$EGRESSD_PID"
live_check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" wait_msg ' RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "$at"
live_check "then READY=1: reloaded" wait_msg ' READY=1\|STATUS=forwarding; reloaded$' "$at"
live_check "RELOADING=1 came first" bash -c \
	'tail -n +$(($2 + 1)) "$1" | grep -E "RELOADING=1|READY=1" | head -n 2 | paste -sd" " |
	 grep -qE "RELOADING=1.* READY=1"' _ "$msgs" "$at"

echo "this: [is not yaml" >"$LIVE_TMP/notify/policy/broken.yaml"
at=$(lines)
kill -HUP "$EGRESSD_PID"
live_check "a broken policy: RELOADING=1, then READY=1 saying it was rejected" \
	wait_msg ' READY=1\|STATUS=forwarding; reload rejected, the running policy kept$' "$at"
rm -f "$LIVE_TMP/notify/policy/broken.yaml"
# the removal is a change of the sources: its reload (generation 3) must be
# over before a worker is stalled, or the control thread waits in it for
# the stalled reader's grace period and cannot say who stalled
published() { grep -q 'policy generation 3 published' "$EGRESSD_ERR"; }
for ((i = 0; i < 50; i++)); do published && break; sleep 0.1; done
live_check "removing the broken file: generation 3 published" published

# the worker's thread: DPDK 22.11 names it rte-worker-N
tid=""
for t in /proc/"$EGRESSD_PID"/task/*; do
	if [[ "$(cat "$t/comm")" == rte-worker-* ]]; then
		tid=${t##*/}
		break
	fi
done
[[ -n "$tid" ]] || live_die "no rte-worker thread in egressd"
live_log "stalling worker thread $tid for 3 s"
stall=$(python3 - "$tid" <<-'PY'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT, WALL = 17, 0x4206, 0x4207, 0x40000000
tid = int(sys.argv[1])
# one thread stops, not its process: a seized thread's ptrace-stop is its own
if libc.ptrace(PTRACE_SEIZE, tid, None, None) or libc.ptrace(PTRACE_INTERRUPT, tid, None, None):
    sys.exit("ptrace: " + os.strerror(ctypes.get_errno()))
os.waitpid(tid, WALL)
t0 = time.monotonic()
time.sleep(3)
t1 = time.monotonic()
libc.ptrace(PTRACE_DETACH, tid, None, None)
print("%.3f %.3f" % (t0, t1))
PY
) || live_die "could not stall the worker: $stall"
read -r t0 t1 <<<"$stall"
sleep 2
held=$(awk -v a="$t0" -v b="$t1" '$1 > a + 0.6 && $1 < b && /WATCHDOG=1/' "$msgs" | wc -l)
after=$(awk -v b="$t1" '$1 > b && /WATCHDOG=1/' "$msgs" | wc -l)
live_log "WATCHDOG=1 while stalled (after the first 0.6 s): $held; in 2 s after: $after"
live_check "no WATCHDOG=1 while a worker is stalled" test "$held" -eq 0
live_check "the log names the stalled worker" \
	grep -q 'worker 0 (lcore 1) made no progress' "$EGRESSD_ERR"
live_check "WATCHDOG=1 again once it runs (3 or more in 2 s)" test "$after" -ge 3
live_check "the log says it resumed" grep -q 'WATCHDOG=1 resumed' "$EGRESSD_ERR"
live_check "it still forwards" redis_ping "$LIVE_REDIS_HOST" 6379

at=$(lines)
live_check "stopped on SIGTERM with status 0" live_stop_egressd
live_check "STOPPING=1" wait_msg ' STOPPING=1$' "$at"
live_stop_pid "$listener" TERM 2 || true
live_finish
