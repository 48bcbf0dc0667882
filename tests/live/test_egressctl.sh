#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# egressctl against a live egressd (the Memorystore topology of lib.sh), every
# verb, values checked:
#   - the API socket exists with mode 0660; --help names every verb;
#   - stats: policy_generation 1, the keys of /egress/stats;
#   - rules: ServiceEntry/default/redis-serviceentry (the seed's entry has no
#     namespace: "default") 10.59.118.59/32 6379/tcp, its
#     source file:line, 1 flow;
#   - explain: allow for 10.59.118.59 6379 (rule, source, NAT address
#     203.0.113.10, target 10.59.118.59:6379); deny for 6380 with "6380 is
#     not a port of ServiceEntry redis-serviceentry ..."; deny for
#     10.59.118.60 with "no ServiceEntry lists 10.59.118.60; ...";
#   - flows: a held redis connection listed (client, NAT address, state,
#     rule), the filters (--limit 1 among 1500 flows: 1 row); nat: the NAT
#     address with 1 port in use, toward redis (its fullest destination, 1
#     of 64512 ports), and redis's destination row;
#   - with 1500 more connections (a listing far beyond a socket buffer), two
#     clients that never read (one never asks, one asks for the flows) stall
#     neither a third client's stats (< 2 s), a fourth's whole listing nor a
#     reload (generation 2: the stalled listing holds no QSBR reader);
#   - reload: ok and policy_generation 3; a broken source: rejected, exit 1,
#     generation stays 3;
#   - --json reload of a broken source exits 1 too;
#   - an entry of two weighted STATIC endpoints: explain's nat.target is the
#     first (not null), nat.target_weights lists both with their weights;
#   - protocol errors answered with a status line; a request ended by EOF
#     without a newline answered; a client trickling its request dropped
#     after 2 s; over-long or repeated egressctl options exit 2;
#   - 16 silent clients hold every slot: a 17th is told "busy", clients that
#     connect and close at once do not kill egressd (SIGPIPE), stats answer
#     once the holders are gone; the socket removed on exit;
#     a stale socket file is replaced at the next start;
#   - drain: usage errors exit 2, --deadline 0 is refused (exit 1); then
#     drain --deadline 30 answers draining 1 and, no flow being left,
#     egressd exits by itself (status 0, final JSON draining 1, "drained: no
#     flow left, exiting").
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POLICY_SRC="$LIVE_REPO/config/memorystore/policy"
EGRESSCTL=${EGRESSCTL:-$LIVE_REPO/build/app/egressctl/egressctl}
SOCK=""

ctl() {
	"$EGRESSCTL" -s "$SOCK" "$@"
}

# pyjson EXPR JSON: evaluate the Python expression EXPR over o = JSON; exit
# status 0 when true (the value printed).
pyjson() {
	python3 -c '
import json, sys
o = json.loads(sys.argv[2])
v = eval(sys.argv[1])
print("  ", sys.argv[1], "->", repr(v)[:300])
if not v:
    print("   in:", sys.argv[2][:1000])
sys.exit(0 if v else 1)' "$1" "$2"
}

# ctl_json_is EXPR VERB [ARGS]: egressctl --json VERB ARGS, and EXPR over it.
ctl_json_is() {
	local expr=$1 j
	shift
	j=$(ctl --json "$@") || return 1
	pyjson "$expr" "$j"
}

check_help() {
	local out v
	out=$("$EGRESSCTL" --help) || return 1
	for v in stats rules flows nat reload explain drain --src --dst --port --rule --limit --deadline \
		--json --socket; do
		grep -q -- "$v" <<<"$out" || {
			echo "  --help does not name $v"
			return 1
		}
	done
}

check_stats() {
	ctl_json_is 'o["policy_generation"] == 1 and o["reloads"] == 0 and "drops" in o and "policy_denied" in o["drops"] and o["ports"]["inside"]["rx"] > 0' \
		stats
}

check_stats_human() {
	# not grep -q: egressctl writes more than a pipe buffer's worth, and a
	# grep that quits at the first line would leave it a SIGPIPE
	ctl stats | grep -E '^policy_generation +1$' >/dev/null
}

check_rules() {
	ctl_json_is 'len(o) == 1 and o[0]["rule"] == "ServiceEntry/default/redis-serviceentry" and o[0]["dst"] == "10.59.118.59/32" and o[0]["port"] == 6379 and o[0]["proto"] == "tcp" and o[0]["flows"] == 1 and o[0]["source"].endswith("policy/redis-serviceentry.yaml:4")' \
		rules
}

check_explain_allow() {
	ctl_json_is 'o["verdict"] == "allow" and o["rule"] == "ServiceEntry/default/redis-serviceentry" and o["source"].endswith("redis-serviceentry.yaml:4") and o["nat"] == {"address": "203.0.113.10", "target": "10.59.118.59:6379", "targets": 0, "target_weights": {}} and o["reason"] == "allowed by ServiceEntry redis-serviceentry: 10.59.118.59/32 port 6379/tcp"' \
		explain "$LIVE_MESH_ADDR" "$LIVE_REDIS_HOST" 6379
}

check_explain_deny_port() {
	ctl_json_is 'o["verdict"] == "deny" and o["rule"] is None and o["source"] is None and o["nat"] is None and o["reason"] == "6380 is not a port of ServiceEntry redis-serviceentry (10.59.118.59/32 lists 6379/tcp)" and o["closest"] == "ServiceEntry/default/redis-serviceentry"' \
		explain "$LIVE_MESH_ADDR" "$LIVE_REDIS_HOST" 6380 tcp
}

check_explain_deny_host() {
	local out
	out=$(ctl explain "$LIVE_MESH_ADDR" "$LIVE_REDIS_OTHER_HOST" 6379) || return 1
	echo "$out" | sed 's/^/  | /'
	[[ "$(head -n 1 <<<"$out")" == "deny: no ServiceEntry lists 10.59.118.60; the closest is ServiceEntry redis-serviceentry (10.59.118.59/32 port 6379/tcp)" ]]
}

# A redis connection held open from the mesh (BLPOP waits).
HOLD_PID=""
hold_connection() {
	local i
	ip netns exec "$LIVE_MESH_NS" timeout 30 redis-cli -h "$LIVE_REDIS_HOST" \
		-p "$LIVE_REDIS_PORT" BLPOP egressd:ctl:hold 25 >/dev/null 2>&1 &
	HOLD_PID=$!
	live_track_pid "$HOLD_PID"
	for ((i = 0; i < 50; i++)); do
		[[ "$(ctl --json flows --dst "$LIVE_REDIS_HOST")" == *established* ]] && return 0
		sleep 0.1
	done
	return 1
}

check_flows() {
	ctl_json_is 'any(f["src"] == "10.8.0.2" and f["dst"] == "10.59.118.59" and f["dport"] == 6379 and f["proto"] == "tcp" and f["nat_src"] == "203.0.113.10" and f["target"] == "10.59.118.59:6379" and f["state"] == "established" and f["rule"] == "ServiceEntry/default/redis-serviceentry" for f in o)' \
		flows --src "$LIVE_MESH_ADDR" --dst "$LIVE_REDIS_HOST" --port 6379 \
		--rule ServiceEntry/default/redis-serviceentry
}

check_flows_filters() {
	local a b c
	a=$(ctl --json flows --port 6380) || return 1
	b=$(ctl --json flows --rule nope/none) || return 1
	pyjson 'o[0] == [] and o[1] == []' "[$a,$b]"
}

check_flows_human() {
	ctl flows | grep -E -q '^10\.8\.0\.2:[0-9]+ +10\.59\.118\.59:6379 +tcp +203\.0\.113\.10:[0-9]+ +10\.59\.118\.59:6379 +established +0  ServiceEntry/default/redis-serviceentry$'
}

check_nat() {
	ctl_json_is 'len(o) == 2 and o[0]["address"] == "203.0.113.10" and o[0]["ports_in_use"] == 1 and o[0]["port_lo"] == 1024 and o[0]["port_hi"] == 65535 and o[0]["destinations"] == 1 and o[0]["fullest"] == {"dst": "10.59.118.59", "dport": 6379, "proto": "tcp", "ports_in_use": 1, "share_ports": 64512, "worker": 0} and o[0]["utilization_max"] == float("%.6g" % (1 / 64512)) and o[1] == {"address": "203.0.113.10", "dst": "10.59.118.59", "dport": 6379, "proto": "tcp", "ports_in_use": 1, "utilization": o[0]["utilization_max"]}' \
		nat
}

# MANY connections from the mesh to redis, held open (or lingering in the
# table once redis refuses those beyond its maxclients): a flow listing far
# larger than a socket's buffer.
MANY=1500
MANY_PID=""
open_many() {
	local i n
	ip netns exec "$LIVE_MESH_NS" python3 - "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" "$MANY" <<-'PY' &
	import resource, socket, sys, time
	soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
	socks = []
	for i in range(int(sys.argv[3])):
	    s = socket.socket(); s.setblocking(False)
	    s.connect_ex((sys.argv[1], int(sys.argv[2])))
	    socks.append(s)
	    if i % 100 == 99:
	        time.sleep(0.05)
	time.sleep(60)
	PY
	MANY_PID=$!
	live_track_pid "$MANY_PID"
	for ((i = 0; i < 100; i++)); do
		n=$(ctl --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["flows_active"])')
		((n > MANY)) && break
		sleep 0.1
	done
	echo "  flows_active: $n"
	((n > MANY))
}

# --limit 1 among more than MANY flows: exactly 1 row.
check_flows_limit() {
	ctl_json_is 'len(o) == 1' flows --limit 1
}

# Two clients that never read (one never asks, one asks for the flows and
# leaves the reply unread, so its buffer and socket fill), then stats and a
# whole flow listing from two more: answered at once, the listing complete.
check_silent_clients() {
	local pid t0 t1 j n r
	python3 - "$SOCK" <<-'PY' &
	import socket, sys, time
	a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1])
	b = socket.socket(socket.AF_UNIX)
	b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
	b.connect(sys.argv[1])
	b.sendall(b'{"version":1,"verb":"flows","args":{}}\n')
	time.sleep(20)
	PY
	pid=$!
	live_track_pid "$pid"
	sleep 1
	t0=$(date +%s%N)
	j=$(timeout 5 "$EGRESSCTL" -s "$SOCK" --json stats) || {
		live_stop_pid "$pid" TERM 2 || true
		return 1
	}
	t1=$(date +%s%N)
	n=$(timeout 10 "$EGRESSCTL" -s "$SOCK" --json flows | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') || n=0
	# a publish waits for every QSBR reader: the stalled listing holds none
	r=$(timeout 5 "$EGRESSCTL" -s "$SOCK" reload) || r="reload failed"
	live_stop_pid "$pid" TERM 2 || true
	echo "  stats answered in $(((t1 - t0) / 1000000)) ms beside two silent clients; a listing of $n flows; $r"
	[[ "$r" == "reload ok: policy generation 2, 1 reloads, 0 failures" ]] &&
		((t1 - t0 < 2000000000 && n > MANY)) && pyjson '"policy_generation" in o' "$j"
}

# A STATIC entry of two weighted endpoints, published by the next reload.
add_pool_entry() {
	cat >"$1/policy/pool.yaml" <<-'EOF'
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata: {name: redis-pool, namespace: cart}
	spec:
	  hosts: [redis-pool.internal]
	  addresses: [10.59.118.100]
	  ports: [{number: 6379, name: tcp-redis, protocol: TCP}]
	  location: MESH_EXTERNAL
	  resolution: STATIC
	  endpoints: [{address: 10.59.118.1, weight: 3}, {address: 10.59.118.2, weight: 1}]
	EOF
}

# Several DNAT targets: the first as "target" (not null), every one's weight.
# The new file is published by the source watcher, or by a reload.
check_explain_several_targets() {
	local i
	add_pool_entry "$1"
	ctl reload >/dev/null || return 1
	for ((i = 0; i < 50; i++)); do
		[[ "$(ctl --json explain "$LIVE_MESH_ADDR" 10.59.118.100 6379)" == *'"allow"'* ]] && break
		sleep 0.1
	done
	ctl_json_is 'o["verdict"] == "allow" and o["rule"] == "ServiceEntry/cart/redis-pool" and o["nat"] == {"address": "203.0.113.10", "target": "10.59.118.1:6379", "targets": 2, "target_weights": {"10.59.118.1:6379": 3, "10.59.118.2:6379": 1}}' \
		explain "$LIVE_MESH_ADDR" 10.59.118.100 6379 || return 1
	ctl explain "$LIVE_MESH_ADDR" 10.59.118.100 6379 | sed 's/^/  | /'
	ctl explain "$LIVE_MESH_ADDR" 10.59.118.100 6379 | grep -q '^ *10\.59\.118\.2:6379 weight 1$'
}

check_reload_ok() {
	local out
	out=$(ctl reload) || return 1
	echo "  $out"
	[[ "$out" == "reload ok: policy generation 3, 2 reloads, 0 failures" ]] || return 1
	ctl_json_is 'o["policy_generation"] == 3 and o["reloads"] == 2' stats
}

check_reload_rejected() {
	local dir=$1 out rc=0
	echo "kind: ServiceEntry" >"$dir/policy/broken.yaml"
	echo "metadata: [" >>"$dir/policy/broken.yaml"
	out=$(ctl reload) || rc=$?
	rm -f "$dir/policy/broken.yaml"
	echo "$out" | sed 's/^/  | /'
	((rc == 1)) || {
		echo "  exit status $rc, not 1"
		return 1
	}
	grep -q '^reload rejected: policy generation 3, 2 reloads, 1 failures$' <<<"$out" || return 1
	grep -q '^last error: .*broken.yaml:3:1: error: ' <<<"$out" || return 1
	ctl_json_is 'o["policy_generation"] == 3 and o["reload_failures"] == 1' stats
}

# Raw requests: each answered by one status line with the error.
check_protocol_errors() {
	python3 - "$SOCK" <<-'PY'
	import json, socket, sys
	def ask(line):
	    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
	    s.sendall(line)
	    data = b""
	    while True:
	        d = s.recv(65536)
	        if not d:
	            break
	        data += d
	    return [json.loads(l) for l in data.decode().splitlines()]
	cases = [
	    (b'{"version":2,"verb":"stats"}\n', "unsupported version (this egressd speaks version 1)"),
	    (b'{"version":1,"verb":"top"}\n', "unknown verb (stats, rules, flows, nat, reload, explain, takeover, drain)"),
	    (b'{"version":1,"verb":\n', "at byte 20: expected a value"),
	    (b'{"version":1,"verb":"explain","args":{"src":"10.8.0.2","dst":"x","port":1}}\n',
	     "args.src and args.dst: IPv4 addresses"),
	    (b'{"version":1,"verb":"explain","args":{"src":"10.8.0.2","dst":"1.2.3.4","port":70000}}\n',
	     "explain needs args.port, 1-65535"),
	]
	ok = True
	for req, err in cases:
	    got = ask(req)
	    print("  ", req.strip().decode(), "->", got)
	    ok &= got == [{"status": "error", "error": err}]
	got = ask(b'{"version":1,"verb":"stats","args":{}}\n')
	ok &= len(got) == 2 and got[-1] == {"status": "ok", "count": 1}
	sys.exit(0 if ok else 1)
	PY
}

# 16 clients that never ask hold every slot; a 17th is told it is busy; 20
# more connect and close at once, so egressd's busy answer meets a closed
# peer (EPIPE: without MSG_NOSIGNAL or SIGPIPE ignored, a SIGPIPE kills
# egressd). egressd lives on, and once the holders close, stats answer.
check_client_limit() {
	python3 - "$SOCK" <<-'PY' || return 1
	import json, socket, sys, time
	held = []
	for i in range(16):
	    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); held.append(s)
	time.sleep(0.3)
	s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
	data = b""
	while True:
	    d = s.recv(4096)
	    if not d:
	        break
	    data += d
	got = [json.loads(l) for l in data.decode().splitlines()]
	print("   17th client:", got)
	for i in range(20):
	    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.close()
	time.sleep(0.5)
	for h in held:
	    h.close()
	sys.exit(0 if got == [{"status": "error", "error": "busy: too many clients"}] else 1)
	PY
	sleep 0.3
	kill -0 "$EGRESSD_PID" 2>/dev/null || {
		echo "  egressd is gone"
		return 1
	}
	ctl_json_is '"policy_generation" in o' stats
}

# A client trickling its request a byte at a time is dropped once it has had
# 2 s for the whole line, with an error status, though every byte is fresh.
check_trickle_dropped() {
	python3 - "$SOCK" <<-'PY'
	import json, socket, sys, time
	s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.setblocking(False)
	t0 = time.monotonic(); data = b""; closed = False
	while time.monotonic() - t0 < 6 and not closed:
	    try:
	        s.send(b"{")
	    except OSError:
	        pass
	    time.sleep(0.2)
	    try:
	        while True:
	            d = s.recv(4096)
	            if not d:
	                closed = True
	                break
	            data += d
	    except BlockingIOError:
	        pass
	    except OSError:
	        closed = True
	t = time.monotonic() - t0
	got = [json.loads(l) for l in data.decode().splitlines()]
	print("   closed after %.1f s:" % t, closed, got)
	sys.exit(0 if closed and 1.9 < t < 3.5 and got == [{"status": "error", "error": "request not complete within 2 s"}] else 1)
	PY
}

# A request ended by EOF (write side shut) without a newline is answered.
check_request_at_eof() {
	python3 - "$SOCK" <<-'PY'
	import json, socket, sys
	s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
	s.sendall(b'{"version":1,"verb":"nat"}'); s.shutdown(socket.SHUT_WR)
	data = b""
	while True:
	    d = s.recv(65536)
	    if not d:
	        break
	    data += d
	got = [json.loads(l) for l in data.decode().splitlines()]
	print("  ", got)
	sys.exit(0 if len(got) >= 2 and got[0]["address"] == "203.0.113.10" and got[-1] == {"status": "ok", "count": len(got) - 1} else 1)
	PY
}

# --json reload of a broken source: exit 1 as the human output's.
check_reload_rejected_json() {
	local dir=$1 out rc=0
	echo "kind: ServiceEntry" >"$dir/policy/broken.yaml"
	echo "metadata: [" >>"$dir/policy/broken.yaml"
	out=$(ctl --json reload) || rc=$?
	rm -f "$dir/policy/broken.yaml"
	echo "  $out" | head -c 300
	echo
	((rc == 1)) || {
		echo "  exit status $rc, not 1"
		return 1
	}
	pyjson 'o["result"] == "rejected"' "$out"
}

# Arguments beyond the request's room, or an option given twice: usage
# error (exit 2), no crash, nothing sent.
check_long_args() {
	local long rc=0
	long=$(printf 'r%.0s' {1..1100})
	ctl flows --rule "$long" --rule "$long" --rule "$long" --rule "$long" --rule "$long" \
		2>/dev/null || rc=$?
	((rc == 2)) || {
		echo "  5 x --rule <1100 chars>: exit $rc, not 2"
		return 1
	}
	rc=0
	ctl flows --port 1 --port 2 2>/dev/null || rc=$?
	((rc == 2)) || {
		echo "  --port twice: exit $rc, not 2"
		return 1
	}
	rc=0
	ctl flows --rule "$long" 2>/dev/null || rc=$?
	((rc == 2)) || {
		echo "  --rule <1100 chars>: exit $rc, not 2"
		return 1
	}
	rc=0
	ctl flows --rule "$(printf 'r%.0s' {1..1000})" --src 1.2.3.4 >/dev/null || rc=$?
	((rc == 0)) || {
		echo "  --rule <1000 chars>: exit $rc, not 0"
		return 1
	}
}

check_usage_errors() {
	local rc=0
	ctl explain 10.8.0.2 10.59.118.59 2>/dev/null || rc=$?
	((rc == 2)) || return 1
	rc=0
	ctl frobnicate 2>/dev/null || rc=$?
	((rc == 2)) || return 1
	rc=0
	"$EGRESSCTL" -s "$LIVE_TMP/none.sock" stats 2>/dev/null || rc=$?
	((rc == 3))
}

check_drain_errors() {
	local rc=0
	ctl drain --deadline 2>/dev/null || rc=$?
	((rc == 2)) || return 1
	rc=0
	ctl drain --deadline soon 2>/dev/null || rc=$?
	((rc == 2)) || return 1
	rc=0
	ctl drain --deadline 0 2>/dev/null || rc=$?
	((rc == 1)) || return 1
	# not draining after the errors
	ctl_json_is 'o["draining"] == 0 and o["drain_left_ms"] == 0' stats
}

# egressctl drain with no flow left (the held connection is gone): egressd
# exits at its next tick, as on SIGTERM: final JSON, status 0, the log line.
check_drain_exits() {
	ctl_json_is 'o["draining"] == 1 and o["deadline_s"] == 30' drain --deadline 30 || return 1
	bench_wait_exit "$EGRESSD_PID" 10 || return 1
	live_stop_pid "$EGRESSD_PID" TERM 1 || return 1
	EGRESSD_RC=$LIVE_STOP_RC
	EGRESSD_PID=""
	EGRESSD_FINAL_JSON=$(grep '^[[:space:]]*{' "$EGRESSD_OUT" | tail -n 1 || true)
	[[ $EGRESSD_RC == 0 ]] && grep -q 'drained: no flow left, exiting' "$EGRESSD_ERR" &&
		python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1])["draining"] != 1)' \
			"$EGRESSD_FINAL_JSON"
}

main() {
	live_require
	[[ -x "$EGRESSCTL" ]] || live_die "egressctl built at $EGRESSCTL"
	live_topology_up
	local conf
	conf=$(live_write_config "$LIVE_TMP/run1" "$POLICY_SRC")
	SOCK="$LIVE_TMP/run1/egressd.sock"
	live_start_egressd "$conf" || live_die "egressd ready with the seed's ServiceEntry"
	live_pass "egressd ready with the seed's ServiceEntry"
	live_check "the API socket is a socket of mode 0660" \
		test "$(stat -c '%F %a' "$SOCK")" = "socket 660"
	live_check "--help names every verb and option" check_help
	live_check "explain: allow for $LIVE_REDIS_HOST 6379, rule, source, NAT address and target" \
		check_explain_allow
	live_check "explain: deny for 6380: not a port of ServiceEntry redis-serviceentry" \
		check_explain_deny_port
	live_check "explain: deny for $LIVE_REDIS_OTHER_HOST: no ServiceEntry lists it (table)" \
		check_explain_deny_host
	hold_connection || live_fail "a held redis connection shows up as established"
	live_check "flows: the held redis connection, NATed, established, under its rule" check_flows
	live_check "flows: --port, --rule and --limit filter" check_flows_filters
	live_check "flows: the human table's row" check_flows_human
	live_check "nat: 203.0.113.10 with ports in use" check_nat
	live_check "rules: the redis ServiceEntry, 10.59.118.59/32 6379/tcp, 1 flow, its file:line" \
		check_rules
	live_check "stats: generation 1, /egress/stats' keys, inside rx > 0" check_stats
	live_check "stats: the human listing" check_stats_human
	live_check "$MANY more connections from the mesh are flows" open_many
	live_check "flows --limit 1 among $MANY flows: exactly 1 row" check_flows_limit
	live_check "clients that never read stall neither stats, a full listing nor a reload" \
		check_silent_clients
	live_stop_pid "$MANY_PID" TERM 5 || true
	live_check "reload: ok, policy_generation 3" check_reload_ok
	live_check "reload of a broken source: rejected, exit 1, generation stays 3" \
		check_reload_rejected "$LIVE_TMP/run1"
	live_check "--json reload of a broken source: exit 1" check_reload_rejected_json \
		"$LIVE_TMP/run1"
	live_check "explain: several DNAT targets, the first as target, each one's weight" \
		check_explain_several_targets "$LIVE_TMP/run1"
	live_check "protocol errors answered by a status line" check_protocol_errors
	live_check "a request ended by EOF without a newline is answered" check_request_at_eof
	live_check "a client trickling its request is dropped after 2 s" check_trickle_dropped
	live_check "over-long or repeated egressctl options: usage error, exit 2" check_long_args
	live_check "usage errors exit 2, no egressd exits 3" check_usage_errors
	live_check "16 clients hold every slot: a 17th told busy, clients that close at once kill nothing" \
		check_client_limit
	live_stop_pid "$HOLD_PID" TERM 5 || true
	live_check "egressd stops on SIGTERM" live_stop_egressd
	live_check "the socket is removed on exit" test ! -e "$SOCK"

	# a socket file nobody listens on (an egressd that was killed) is replaced
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	live_start_egressd "$conf" || live_die "egressd ready over a stale socket file"
	live_check "a stale socket file is replaced: stats answer" check_stats_human
	live_check "drain: usage errors exit 2, a deadline of 0 is egressd's error (exit 1)" \
		check_drain_errors
	live_check "drain: answered at once (draining 1), egressd without flows exits by itself, status 0" \
		check_drain_exits
	live_finish
}

main "$@"
