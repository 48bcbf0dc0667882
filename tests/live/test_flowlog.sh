#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The flow log (flowlog.path) of a live egressd (the Memorystore topology of
# lib.sh, with a second ServiceEntry for a TLS server, openssl s_server on
# 10.59.118.60:8443 in the external namespace). Every line of the file is
# parsed by python3's json module and checked field by field:
#   - an admitted redis session (redis-cli PING): its admit line (src
#     10.8.0.2, dst 10.59.118.59, dport 6379, nat_src 203.0.113.10, rule
#     ServiceEntry/default/redis-serviceentry, source its file:line 4, nat_dst/port,
#     no sni) and, once TIME_WAIT (1 s here) ran out, its end line: fin, the
#     same ports, duration < 10 s, frames and bytes each way consistent with
#     what went through (every frame >= 40 bytes, the 14-byte PING and the
#     7-byte +PONG on top);
#   - a denied one (port 6380): deny lines for its SYNs, reason
#     policy_denied, closest "6380 is not a port of ServiceEntry
#     redis-serviceentry (10.59.118.59/32 lists 6379/tcp)";
#   - a TLS ClientHello sent through (openssl s_client -servername
#     test.example): admit with sni "test.example" under the TLS rule;
#   - every line has the contract's keys in the contract's order, time in
#     RFC 3339 with ms, within the test's wall-clock window;
#   - SIGUSR1 after mv (logrotate): new lines go to a new file at the path,
#     none to the moved one;
#   - the flowlog metrics agree: suppressed 0, dropped 0;
#   - a redis session still open when egressd stops (SIGTERM): its end
#     line, end_reason shutdown.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POLICY_SRC="$LIVE_REPO/config/memorystore/policy"
TLS_HOST=$LIVE_REDIS_OTHER_HOST
TLS_PORT=8443
LOG=""
T_START=""

# A ServiceEntry for the TLS server, beside the seed's redis one.
write_tls_entry() {
	cat >"$1/policy/tls-serviceentry.yaml" <<-EOF
	apiVersion: networking.istio.io/v1alpha3
	kind: ServiceEntry
	metadata:
	  name: tls-serviceentry
	spec:
	  hosts: [test.example]
	  addresses: [$TLS_HOST]
	  ports:
	  - {number: $TLS_PORT, name: tls, protocol: TLS}
	  location: MESH_EXTERNAL
	EOF
}

start_tls_server() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test.example \
		-keyout "$LIVE_TMP/tls.key" -out "$LIVE_TMP/tls.crt" >/dev/null 2>&1 || return 1
	ip netns exec "$LIVE_EXT_NS" openssl s_server -quiet -accept "$TLS_HOST:$TLS_PORT" \
		-cert "$LIVE_TMP/tls.crt" -key "$LIVE_TMP/tls.key" >"$LIVE_TMP/s_server.log" 2>&1 &
	live_track_pid "$!"
	local i
	for ((i = 0; i < 50; i++)); do
		ext_exec timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$TLS_HOST" "$TLS_PORT" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# flowlog_check EXPR [FILE]: every line of FILE (default the log) parses as a
# JSON object with the contract's keys in order; then EXPR over L (the list
# of lines as dicts) is true. Prints what it looked at.
flowlog_check() {
	python3 - "$1" "${2:-$LOG}" "$T_START" "$(date +%s.%N)" <<-'PY'
	import json, re, sys
	expr, path, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
	from datetime import datetime
	common = ["time", "event", "proto", "src", "sport", "dst", "dport"]
	keys = {
	    "admit": common + ["nat_src", "nat_sport", "rule", "source", "nat_dst", "nat_dport"],
	    "deny": common + ["reason", "closest"],
	    "end": common + ["nat_src", "nat_sport", "rule", "source", "duration_ms",
	                     "packets_out", "bytes_out", "packets_in", "bytes_in", "end_reason"],
	}
	L = []
	with open(path) as f:
	    for n, line in enumerate(f, 1):
	        assert line.endswith("\n"), "line %d: no newline" % n
	        o = json.loads(line, object_pairs_hook=lambda p: p)
	        got = [k for k, _ in o]
	        o = dict(o)
	        want = keys[o["event"]] + [k for k in ("sni", "suppressed") if k in o]
	        assert got == want, "line %d: keys %s, want %s" % (n, got, want)
	        m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", o["time"])
	        assert m, "line %d: time %r" % (n, o["time"])
	        t = datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
	        assert t0 - 1 <= t <= t1 + 1, "line %d: time %s not in the test's window" % (n, o["time"])
	        for k in ("sport", "dport", "nat_sport", "nat_dport", "duration_ms", "packets_out",
	                  "bytes_out", "packets_in", "bytes_in", "suppressed"):
	            assert k not in o or (type(o[k]) is int and o[k] >= 0), "line %d: %s" % (n, k)
	        L.append(o)
	v = eval(expr)
	print("   %d lines; %s -> %r" % (len(L), expr[:120], v if not isinstance(v, bool) else v))
	if not v:
	    for o in L:
	        print("   |", json.dumps(o))
	sys.exit(0 if v else 1)
	PY
}

# wait_for EXPR: flowlog_check EXPR true within 10 s (the writer drains
# every 100 ms; an end waits for TIME_WAIT, 1 s, and the sweep).
wait_for() {
	local i
	for ((i = 0; i < 50; i++)); do
		flowlog_check "$1" >/dev/null 2>&1 && {
			flowlog_check "$1"
			return 0
		}
		sleep 0.2
	done
	flowlog_check "$1"
}

REDIS_SPORT=""
check_redis_admit() {
	redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" || return 1
	wait_for '[o for o in L if o["event"] == "admit" and o["dport"] == 6379]' || return 1
	REDIS_SPORT=$(flowlog_check 'True' >/dev/null && python3 -c '
import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
print([o for o in L if o["event"] == "admit" and o["dport"] == 6379][0]["sport"])' "$LOG")
	flowlog_check "[o for o in L if o['event'] == 'admit' and o['dport'] == 6379] == [dict(time=o['time'], event='admit', proto='tcp', src='$LIVE_MESH_ADDR', sport=$REDIS_SPORT, dst='$LIVE_REDIS_HOST', dport=6379, nat_src='$LIVE_NAT_ADDR', nat_sport=o['nat_sport'], rule='ServiceEntry/default/redis-serviceentry', source=o['source'], nat_dst='$LIVE_REDIS_HOST', nat_dport=6379) for o in L if o['event'] == 'admit' and o['dport'] == 6379] and all(o['source'].endswith('/policy/redis-serviceentry.yaml:4') and o['nat_sport'] >= 1024 for o in L if o['event'] == 'admit')"
}

check_redis_end() {
	wait_for "[o for o in L if o['event'] == 'end' and o['sport'] == $REDIS_SPORT]" || return 1
	flowlog_check "[(a, e) for a in L for e in L if a['event'] == 'admit' and e['event'] == 'end' and a['sport'] == e['sport'] == $REDIS_SPORT and e['end_reason'] == 'fin' and e['proto'] == 'tcp' and e['src'] == '$LIVE_MESH_ADDR' and e['dst'] == '$LIVE_REDIS_HOST' and e['dport'] == 6379 and e['nat_src'] == a['nat_src'] and e['nat_sport'] == a['nat_sport'] and e['rule'] == a['rule'] == 'ServiceEntry/default/redis-serviceentry' and e['source'] == a['source'] and e['duration_ms'] < 10000 and e['packets_out'] >= 4 and e['packets_in'] >= 3 and e['bytes_out'] >= 40 * e['packets_out'] + 14 and e['bytes_in'] >= 40 * e['packets_in'] + 7 and e['bytes_out'] <= 1500 * e['packets_out'] and e['bytes_in'] <= 1500 * e['packets_in'] and e['time'] >= a['time']]"
}

check_denied() {
	expect_timeout "$LIVE_REDIS_HOST" "$LIVE_REDIS_OTHER_PORT" || return 1
	wait_for '[o for o in L if o["event"] == "deny"]' || return 1
	flowlog_check "len({o['sport'] for o in L if o['event'] == 'deny'}) == 1 and all(o['proto'] == 'tcp' and o['src'] == '$LIVE_MESH_ADDR' and o['dst'] == '$LIVE_REDIS_HOST' and o['dport'] == 6380 and o['reason'] == 'policy_denied' and o['closest'] == '6380 is not a port of ServiceEntry redis-serviceentry (10.59.118.59/32 lists 6379/tcp)' and 'suppressed' not in o for o in L if o['event'] == 'deny')"
}

check_sni() {
	mesh_exec timeout 5 openssl s_client -servername test.example -connect "$TLS_HOST:$TLS_PORT" \
		</dev/null >"$LIVE_TMP/s_client.out" 2>&1 || true
	grep -q "CONNECTED" "$LIVE_TMP/s_client.out" || {
		cat "$LIVE_TMP/s_client.out"
		return 1
	}
	wait_for "[o for o in L if o['event'] == 'admit' and o['dport'] == $TLS_PORT]" || return 1
	flowlog_check "[(o['src'], o['dst'], o['rule'], o['source'].endswith('/policy/tls-serviceentry.yaml:4'), o['sni']) for o in L if o['event'] == 'admit' and o['dport'] == $TLS_PORT] == [('$LIVE_MESH_ADDR', '$TLS_HOST', 'ServiceEntry/default/tls-serviceentry', True, 'test.example')]"
}

check_reopen() {
	local n_old
	mv "$LOG" "$LOG.1"
	n_old=$(wc -l <"$LOG.1")
	kill -USR1 "$EGRESSD_PID"
	sleep 0.5
	redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" || return 1
	wait_for 'len([o for o in L if o["event"] == "admit" and o["dport"] == 6379]) == 1' ||
		return 1
	[[ "$(stat -c %a "$LOG")" == 640 ]] || {
		echo "  mode $(stat -c %a "$LOG")"
		return 1
	}
	# nothing more went to the moved file
	[[ "$(wc -l <"$LOG.1")" == "$n_old" ]]
}

# Every admit of both files has its end (TIME_WAIT is 1 s): nothing more to come.
all_ended() {
	python3 - "$LOG.1" "$LOG" <<-'PY'
	import json, sys
	L = [json.loads(l) for p in sys.argv[1:] for l in open(p)]
	ev = lambda e: sorted((o["sport"], o["dport"]) for o in L if o["event"] == e)
	sys.exit(0 if ev("admit") == ev("end") else 1)
	PY
}

check_metrics() {
	local i n
	for ((i = 0; i < 50; i++)); do
		all_ended && break
		sleep 0.2
	done
	all_ended || return 1
	# the flow-log figures are metrics only
	curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$LIVE_TMP/metrics.txt" || return 1
	grep -E '^egressd_flowlog_(dropped|suppressed|unwritten)_total 0$' "$LIVE_TMP/metrics.txt" |
		wc -l | grep -qx 3 || {
		grep flowlog "$LIVE_TMP/metrics.txt"
		return 1
	}
	n=$(sed -n 's/^egressd_flowlog_records_total //p' "$LIVE_TMP/metrics.txt")
	echo "  records_total $n; lines $(cat "$LOG.1" "$LOG" | wc -l)"
	[[ "$n" == "$(cat "$LOG.1" "$LOG" | wc -l)" ]]
}

# A redis session held open (a python client in the mesh: connected, one
# PING answered, then idle): its client port in OPEN_SPORT.
open_session() {
	local i
	mesh_exec python3 -c '
import socket, sys, time
s = socket.create_connection(("'"$LIVE_REDIS_HOST"'", 6379), timeout=5)
s.sendall(b"PING\r\n")
assert s.recv(16).startswith(b"+PONG")
print(s.getsockname()[1], flush=True)
time.sleep(120)
' >"$LIVE_TMP/open.out" 2>"$LIVE_TMP/open.err" &
	OPEN_PID=$!
	live_track_pid "$OPEN_PID"
	for ((i = 0; i < 100; i++)); do
		OPEN_SPORT=$(head -n 1 "$LIVE_TMP/open.out")
		[[ -n "$OPEN_SPORT" ]] && return 0
		sleep 0.1
	done
	cat "$LIVE_TMP/open.err" >&2
	return 1
}

# The session still open when egressd stopped: its end line, "shutdown".
check_shutdown_end() {
	flowlog_check "[o['end_reason'] for o in L if o['event'] == 'end' and o['sport'] == $OPEN_SPORT] == ['shutdown'] and [o['packets_out'] >= 3 and o['packets_in'] >= 2 for o in L if o['event'] == 'end' and o['sport'] == $OPEN_SPORT] == [True]"
}

main() {
	live_require openssl curl
	live_topology_up
	local conf dir="$LIVE_TMP/run1"
	conf=$(live_write_config "$dir" "$POLICY_SRC")
	write_tls_entry "$dir"
	LOG="$dir/flows.jsonl"
	METRICS_PORT=$((20000 + LIVE_SFX))
	cat >>"$conf" <<-EOF
	flows: { timeouts: { time_wait: 1s } }
	flowlog: { path: $LOG, denied_per_second: 100 }
	metrics: { listen: "127.0.0.1:$METRICS_PORT" }
	EOF
	start_tls_server || live_die "openssl s_server on $TLS_HOST:$TLS_PORT"
	T_START=$(date +%s.%N)
	live_start_egressd "$conf" || live_die "egressd ready with flowlog"
	live_pass "egressd ready with flowlog.path $LOG"
	live_check "an admitted redis session: its admit line, field by field" check_redis_admit
	live_check "its end line: fin, the same ports and rule, counts each way" check_redis_end
	live_check "a denied session (6380): deny lines, policy_denied, the closest rule" \
		check_denied
	live_check "a TLS ClientHello sent through: admit with sni test.example" check_sni
	live_check "SIGUSR1 after mv: new lines in a new file (0640), none in the moved one" \
		check_reopen
	live_check "metrics: nothing dropped, suppressed or unwritten; records = lines" \
		check_metrics
	open_session || live_die "a redis session held open through egressd"
	live_check "egressd stops on SIGTERM" live_stop_egressd
	live_check "the session still open then: its end line, end_reason shutdown" \
		check_shutdown_end
	live_stop_pid "$OPEN_PID" TERM 5 || true
	live_finish
}

main "$@"
