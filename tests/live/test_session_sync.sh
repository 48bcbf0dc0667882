#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Session sync (doc/session-sync.md): an established TCP session survives the
# loss of the appliance that carried it. Two egressd appliances, A and B, share
# the mesh's and the outside's L2 (a bridge in each namespace); each syncs its
# flows to the other over UDP (sync: on loopback ports here, a dedicated link
# in production). A python client in the mesh holds one TCP connection to a
# real redis-server through A and sends PING every 50 ms. Then:
#
#   kill -9 A; the mesh's route to the server moves to B (ip route replace,
#   as the mesh's router would: the routing part is doc/scale-out.md's)
#   -> B declares A dead (no sync datagram for sync.dead_after), takes over
#      A's NAT address (answers ARP for it, sends gratuitous ARP) and installs
#      A's flows; the same client socket keeps getting PONG, and redis sees
#      the same connection (CLIENT INFO: same id, same NAT address:port).
#
# With takeover: manual, B waits for egressctl takeover. With sync off on
# both, the same sequence breaks the session: B has no flow
# for the client's segments and drops them (no_flow_not_syn), so the client's next
# command times out (no RST: nothing answers). With sync off and
# flows: { no_flow: reset } on B, B answers the client's first segment
# with a RST: the client's next command fails at once with a connection
# reset (measured from the command to the error, bound 2 s). Records synced per second are
# measured from A's and B's counters under a burst of short connections
# (redis-benchmark -k 0) and printed as "# figure: ...".
#
#   netns egm<sfx>: bridge, client 10.8.0.100/16, route to redis via A (10.8.0.1)
#      | eia<sfx> = A inside 10.8.0.1/16     | eib<sfx> = B inside 10.8.0.2/16
#   A: outside 203.0.113.10 (its NAT)        B: outside 203.0.113.11 (its NAT)
#      | eoa<sfx>                            | eob<sfx>
#   netns egx<sfx>: bridge, 203.0.113.1/24, redis-server on 10.59.118.59:6379
set -uo pipefail

source "$(dirname "$0")/lib.sh"

EGRESSCTL=${EGRESSCTL:-$LIVE_REPO/build/app/egressctl/egressctl}
A_NAT=203.0.113.10
B_NAT=203.0.113.11
A_IN=10.8.0.1
B_IN=10.8.0.2
CLIENT=10.8.0.100

live_require redis-benchmark
[[ -x "$EGRESSCTL" ]] || live_require_built "$EGRESSCTL"

# --- topology: two appliances on one L2 each side ---------------------------

bench_traps live_cleanup
LIVE_TMP=$(mktemp -d /tmp/egressd-live.XXXXXX)
live_pick_suffix || live_skip "no free namespace suffix"
S=$LIVE_SFX
LIVE_MESH_NS=egm$S
LIVE_EXT_NS=egx$S
if ! live_netns_add "$LIVE_MESH_NS"; then
	live_skip "cannot create network namespaces here (ip netns add)"
fi
live_netns_add "$LIVE_EXT_NS" || live_die "ip netns add $LIVE_EXT_NS"
for ns in "$LIVE_MESH_NS" "$LIVE_EXT_NS"; do
	ip -n "$ns" link add br0 type bridge || live_die "bridge in $ns"
	ip -n "$ns" link set br0 up
done
# eia/eib: A's and B's inside ports; eoa/eob: their outside ports
for x in ia ib; do
	live_veth "e$x$S" "p$x$S" "$LIVE_MESH_NS" || live_die "veth e$x$S"
	ip -n "$LIVE_MESH_NS" link set "p$x$S" master br0
done
for x in oa ob; do
	live_veth "e$x$S" "p$x$S" "$LIVE_EXT_NS" || live_die "veth e$x$S"
	ip -n "$LIVE_EXT_NS" link set "p$x$S" master br0
done
live_offloads_off br0 "$LIVE_MESH_NS" || true
live_offloads_off br0 "$LIVE_EXT_NS" || true
ip -n "$LIVE_MESH_NS" addr add "$CLIENT/16" dev br0
ip -n "$LIVE_MESH_NS" route add "$LIVE_REDIS_HOST/32" via "$A_IN"
ip -n "$LIVE_EXT_NS" addr add "$LIVE_EXT_ADDR/24" dev br0
ip -n "$LIVE_EXT_NS" addr add "$LIVE_REDIS_HOST/32" dev lo
live_start_redis "$LIVE_REDIS_PORT" "$LIVE_REDIS_HOST" || live_die "redis-server"

# sync ports on loopback, from the suffix (two per run, runs apart)
SYNC_BASE=$((20000 + (S % 1000) * 8))

# write_config NAME INSIDE_DEV OUTSIDE_DEV INSIDE_ADDR NAT_ADDR SYNC_ME SYNC_PEER PEER_NAT [NO_FLOW]
# (SYNC_ME empty: no sync section; NO_FLOW: flows.no_flow, default drop)
write_config() {
	local dir=$LIVE_TMP/$1
	mkdir -p "$dir/policy"
	cp "$LIVE_REPO"/config/memorystore/policy/*.yaml "$dir/policy/"
	cat >"$dir/egressd.yaml" <<-EOF
	ports:
	  inside:  { device: "net_af_packet0,iface=$2", address: $4/16 }
	  outside: { device: "net_af_packet1,iface=$3", address: $5/24, gateway: $LIVE_EXT_ADDR }
	policy: { outbound: REGISTRY_ONLY, deny: drop, sources: [policy/] }
	flows: { no_flow: ${9:-drop} }
	workers: 1
	poll: { idle: backoff }
	api: { socket: $dir/egressd.sock }
	EOF
	if [[ -n "$6" ]]; then
		cat >>"$dir/egressd.yaml" <<-EOF
		sync:
		  listen: 127.0.0.1:$6
		  peer: 127.0.0.1:$7
		  peer_addresses: [$8]
		  dead_after: 500ms
		  takeover: ${TAKEOVER:-auto}
		EOF
	fi
	echo "$dir/egressd.yaml"
}

# stat NAME KEY: a counter of appliance NAME (egressctl --json stats)
stat() {
	"$EGRESSCTL" -s "$LIVE_TMP/$1/egressd.sock" --json stats 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

# wait_stat NAME KEY MIN SECONDS: until the counter is >= MIN
wait_stat() {
	local i v
	for ((i = 0; i < $4 * 10; i++)); do
		v=$(stat "$1" "$2")
		[[ -n "$v" ]] && ((v >= $3)) && return 0
		sleep 0.1
	done
	return 1
}

# start NAME CONFIG: egressd, its pid in ${NAME}_PID
start() {
	live_start_egressd "$2" || live_die "egressd $1 ready"
	printf -v "${1}_PID" '%s' "$EGRESSD_PID"
	printf -v "${1}_PREFIX" '%s' "$EGRESSD_PREFIX"
}

# stop NAME: SIGTERM, as live_stop_egressd does for the last one started
stop() {
	local pid=${1}_PID prefix=${1}_PREFIX
	EGRESSD_PID=${!pid}
	EGRESSD_PREFIX=${!prefix}
	live_stop_egressd
}

# The client: one TCP connection, CLIENT INFO, PING every 50 ms until the
# file "$1" appears, CLIENT INFO again, exit. Every line: time and result;
# an error: how long after its command was sent.
cat >"$LIVE_TMP/client.py" <<-'PY'
import os, socket, sys, time
go, timeout = sys.argv[1], float(sys.argv[2])
s = socket.create_connection(("10.59.118.59", 6379), timeout=5)
s.settimeout(timeout)
f = s.makefile("rb")
t_cmd = 0.0
def cmd(*args):
    global t_cmd
    t_cmd = time.time()
    s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
    line = f.readline()
    if not line:
        raise ConnectionResetError("closed by the peer")
    if line[:1] == b"$":
        return f.read(int(line[1:]) + 2)[:-2].decode()
    return line.strip().decode()
def info():
    kv = dict(x.split("=", 1) for x in cmd("CLIENT", "INFO").split() if "=" in x)
    return "id=%s addr=%s local=%s" % (kv["id"], kv["addr"], "%s:%d" % s.getsockname())
print("before", info(), flush=True)
n = 0
try:
    while not os.path.exists(go):
        assert cmd("PING") == "+PONG"
        n += 1
        print("pong", n, "%.3f" % time.time(), flush=True)
        time.sleep(0.05)
    print("after", info(), flush=True)
except (socket.timeout, TimeoutError) as e:
    print("error timeout after %d pongs, %.3f s into the command, at %.3f" % (n, time.time() - t_cmd, time.time()), flush=True)
except OSError as e:
    print("error %s after %d pongs, %.3f s into the command, at %.3f" % (type(e).__name__, n, time.time() - t_cmd, time.time()), flush=True)
PY

# scenario NAME SYNC(1|0) [manual|reset]: A carries the session, dies, B
# carries on (or not); manual: B takes over on egressctl takeover only;
# reset: B has flows.no_flow: reset
scenario() {
	local name=$1 sync=$2 manual='' no_flow=drop a b go out log t0 before after i timeout=5
	TAKEOVER=auto
	[[ "${3:-}" == manual ]] && manual=1 TAKEOVER=manual
	[[ "${3:-}" == reset ]] && no_flow=reset
	if ((sync)); then
		a=$(write_config "a-$name" "eia$S" "eoa$S" "$A_IN" "$A_NAT" $((SYNC_BASE + 1)) $((SYNC_BASE + 2)) "$B_NAT")
		b=$(write_config "b-$name" "eib$S" "eob$S" "$B_IN" "$B_NAT" $((SYNC_BASE + 2)) $((SYNC_BASE + 1)) "$A_NAT")
	else
		a=$(write_config "a-$name" "eia$S" "eoa$S" "$A_IN" "$A_NAT" "" "" "")
		b=$(write_config "b-$name" "eib$S" "eob$S" "$B_IN" "$B_NAT" "" "" "" "$no_flow")
	fi
	start A "$a"
	start B "$b"
	ip -n "$LIVE_MESH_NS" route replace "$LIVE_REDIS_HOST/32" via "$A_IN"
	go=$LIVE_TMP/go-$name
	log=$LIVE_TMP/client-$name.log
	# with sync, a command may wait for TCP's retransmissions through the
	# failover (RTO back-off, and a loaded machine: the manual takeover
	# waits for egressctl): 30 s; without, 5 s tells a stall
	((sync)) && timeout=30
	ip netns exec "$LIVE_MESH_NS" python3 "$LIVE_TMP/client.py" "$go" "$timeout" >"$log" 2>&1 &
	live_track_pid "$!"
	out=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^pong 5 ' "$log" && break
		sleep 0.1
	done
	before=$(sed -n 's/^before //p' "$log")
	live_check "$name: session up through A ($before)" grep -q "addr=$A_NAT:" <<<"$before"
	if ((sync)); then
		live_check "$name: B holds A's flow before the failure" \
			wait_stat b-"$name" sync_peer_flows 1 5
		[[ -n "$manual" ]] || measure_rate "$name"
	fi

	t0=$(date +%s.%N)
	kill -9 "$A_PID"
	ip -n "$LIVE_MESH_NS" route replace "$LIVE_REDIS_HOST/32" via "$B_IN"
	if [[ -n "$manual" ]]; then
		sleep 1.5
		live_check "$name: takeover: manual, A dead for 1.5 s: B has not taken over" \
			test "$(stat b-"$name" sync_takeover)" == 0 -a "$(stat b-"$name" sync_peer_alive)" == 0
		live_check "$name: egressctl takeover" \
			"$EGRESSCTL" -s "$LIVE_TMP/b-$name/egressd.sock" takeover
	fi
	if ((sync)); then
		live_check "$name: B takes over within 3 s" wait_stat b-"$name" sync_takeover 1 3
		live_log "takeover seen $(python3 -c "import time; print('%.2f' % (time.time() - $t0))") s after kill -9"
	fi
	sleep 3 # the client keeps pinging through the failover, or stalls
	touch "$go"
	for ((i = 0; i < 350; i++)); do
		grep -q '^after \|^error ' "$log" && break
		sleep 0.1
	done
	after=$(sed -n 's/^after //p' "$log")
	if ((sync)); then
		live_check "$name: the same connection answers through B (before: $before; after: $after)" \
			test -n "$after" -a "$after" == "$before"
		live_check "$name: no error on the client" test -z "$(grep '^error' "$log")"
		live_check "$name: PONGs continued after the failover" \
			python3 -c "import sys; t=[float(l.split()[2]) for l in open(sys.argv[1]) if l.startswith('pong')]; sys.exit(0 if t[-1] > $t0 + 1 else 1)" "$log"
		live_log "longest gap between PONGs: $(python3 -c "import sys; t=[float(l.split()[2]) for l in open(sys.argv[1]) if l.startswith('pong')]; print('%.2f s' % max(b - a for a, b in zip(t, t[1:])))" "$log")"
		live_check "$name: B installed A's flows" wait_stat b-"$name" sync_flows_installed 1 1
	elif [[ "$no_flow" == reset ]]; then
		live_check "$name: the session fails fast, reset by B ($(grep '^error' "$log"))" \
			grep -q '^error ConnectionResetError' "$log"
		live_check "$name: the error came < 2 s after its command" \
			python3 -c "import re, sys; m = re.search(r'^error .*, ([0-9.]+) s into', open(sys.argv[1]).read(), re.M); sys.exit(0 if m and float(m.group(1)) < 2 else 1)" "$log"
		echo "# figure: no_flow: reset: the client's command failed $(sed -n 's/^error .*, \([0-9.]*\) s into the command.*/\1/p' "$log") s after it was sent, $(python3 -c "print('%.3f' % ($(sed -n 's/^error .*, at \([0-9.]*\)$/\1/p' "$log") - $t0))") s after kill -9 of A (drop: the client's 5 s timeout)"
		live_check "$name: B sent the RST (rst_sent $(stat b-"$name" rst_sent))" \
			test "$(stat b-"$name" rst_sent)" -ge 1
	else
		live_check "$name: the session fails without sync ($(grep '^error' "$log"))" \
			grep -q '^error timeout' "$log"
		live_check "$name: no_flow: drop: B sent no RST" test "$(stat b-"$name" rst_sent)" == 0
	fi
	if ((!sync)); then
		local msg rc=0
		msg=$("$EGRESSCTL" -s "$LIVE_TMP/b-$name/egressd.sock" takeover 2>&1) || rc=$?
		live_check "$name: egressctl takeover without sync: an error, exit 1 ($msg, $rc)" \
			test "$msg" == "egressctl: takeover: session sync is off (no sync section in the config)" -a "$rc" == 1
		local drops
		drops=$("$EGRESSCTL" -s "$LIVE_TMP/b-$name/egressd.sock" --json stats |
			python3 -c 'import json,sys; d=json.load(sys.stdin)["drops"]; print(" ".join("%s=%s" % kv for kv in d.items() if kv[1]))')
		live_check "$name: B dropped the orphaned segments ($drops)" grep -q 'no_flow_not_syn=[1-9]' <<<"$drops"
	fi
	wait "$out" 2>/dev/null
	live_check "$name: B stops cleanly" stop B
	wait "$A_PID" 2>/dev/null
	bench_forget_pid "$A_PID"
	rm -rf "/var/run/dpdk/$A_PREFIX"
}

# Records synced per second: short connections through A (redis-benchmark
# -k 0: a connection per request), A's records sent and B's received.
measure_rate() {
	local name=$1 s0 r0 s1 r1 t0 t1
	s0=$(stat a-"$name" sync_records_sent)
	r0=$(stat b-"$name" sync_records_received)
	t0=$(date +%s.%N)
	ip netns exec "$LIVE_MESH_NS" redis-benchmark -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" \
		-c 20 -n 4000 -k 0 -t ping -q >"$LIVE_TMP/bench-$name.log" 2>&1
	t1=$(date +%s.%N)
	sleep 0.3
	s1=$(stat a-"$name" sync_records_sent)
	r1=$(stat b-"$name" sync_records_received)
	live_check "$name: every record A sent under load reached B (sent $((s1 - s0)), received $((r1 - r0)), lost $(stat a-"$name" sync_records_lost))" \
		test "$((s1 - s0))" -eq "$((r1 - r0))" -a "$((s1 - s0))" -gt 4000
	echo "# figure: records synced per second: $(python3 -c "print(int(($r1 - $r0) / ($t1 - $t0)))") ($((r1 - r0)) records in $(python3 -c "print('%.2f' % ($t1 - $t0))") s, 4000 connections by redis-benchmark -c 20 -k 0)"
}

scenario on 1
scenario manual 1 manual
scenario off 0
scenario reset 0 reset
live_finish
