#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: scale-out (doc/scale-out.md). Three egressd appliances behind a router
# that spreads the mesh's connections over them by ECMP; each appliance's
# FRR (zebra, bgpd, bfdd) announces the service prefix over BGP with BFD
# through egressd's inside exception path (the TAP scin).
#
#   netns scm<sfx> "mesh"    10.8.1.2/24 via 10.8.1.1; redis-cli clients
#        | veth
#   netns scr<sfx> "router"  10.8.1.1/24; bridge brin 10.8.0.1/16 (proxy ARP
#                            for the mesh: egressd's inside prefix is the
#                            /16); FRR: bgpd peers 10.8.0.11-13 with BFD
#                            (3 x 200 ms), maximum-paths 8; zebra installs
#                            198.51.100.0/24 with one next hop per appliance
#        | brin: one veth per appliance
#   netns sca<i><sfx>        egressd (net_af_packet on vin, vout; poll.idle
#                            backoff), inside 10.8.0.1<i>/16 with exception
#                            TAP scin (tcp/179, udp/3784), outside (NAT)
#                            198.51.100.1<i>/24; FRR beside it on scin
#        | vout: one veth per appliance, on bridge brout
#   netns scx<sfx> "outside" brout 198.51.100.1/24, redis-server :6379
#
# A watcher in the router polls the route every 10 ms and logs each change
# (the withdraw times below are measured on it); in the resilient phase it
# also mirrors the route's next hops into a kernel resilient next-hop group
# (ip nexthop ... type resilient) in table 100, which the mesh's traffic
# uses (ip rule iif): zebra (FRR 8.4) installs BGP multipath routes as plain
# ECMP only.
#
# Checks:
#   - BGP+BFD up through each egressd: the route has 3 next hops;
#   - spread: 40 long-lived redis-cli sessions land on every appliance
#     (egressctl flows, per appliance);
#   - plain ECMP: SIGKILL of the route's first next hop's egressd: withdrawn
#     in < 1 s; its sessions fail fast: the survivor their packets now
#     reach answers with a RST (flows.no_flow: reset), redis-cli says
#     "Connection reset by peer"; survivors' sessions the hash moved to
#     another appliance stall or are reset too (counted and printed: > 0
#     expected);
#   - resilient: the same appliance restarted, the same again: withdrawn in
#     < 1 s; every survivor session keeps answering, none moved, no error;
#     the killed appliance's sessions fail fast (no session sync here);
#   - drain: egressctl drain on a survivor: withdrawn in < 1 s, stats show
#     draining; new sessions all land on the other appliance and answer;
#     the drained appliance's own sessions keep answering (none lost); when
#     they end egressd exits by itself, status 0, "drained: no flow left";
#   - stall: SIGSTOP of the last appliance's egressd: withdrawn in < 1 s;
#     SIGCONT: announced again, its sessions answer again;
#   - session sync: the killed and the drained appliances restarted with a
#     sync section each, to the other over a veth of their own (vsync,
#     10.9.0.1<i>/24: not an egressd port, so egressd never sees the sync
#     datagrams), dead_after 500 ms; the third stopped (withdrawn, out of the
#     resilient group); 40 sessions on the two; SIGKILL of the first:
#     withdrawn in < 1 s, the peer takes over its NAT address (gratuitous ARP
#     on the outside segment) and its flows; every one of its sessions keeps
#     answering through the peer (same connection, no error), the peer's own
#     sessions are unaffected.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support, no FRR).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EGRESSCTL=${EGRESSCTL:-$LIVE_REPO/build/app/egressctl/egressctl}
FRR_DIR=/usr/lib/frr
PREFIX=198.51.100.0/24 # the service prefix: what the appliances announce
REDIS=198.51.100.1
N_APP=3
N_CLIENTS=40
WITHDRAW_MAX_MS=1000

live_require ss
live_require_that "FRR (frr)" test -x "$FRR_DIR/bgpd"
live_require_tool vtysh
live_require_built "$EGRESSCTL"

bench_traps live_cleanup
LIVE_TMP=$(mktemp -d /tmp/egressd-live.XXXXXX)
chmod 711 "$LIVE_TMP" # FRR runs as user frr: its folders are below
live_pick_suffix || live_skip "no free namespace suffix"
S=$LIVE_SFX
MESH=scm$S
ROUTER=scr$S
OUTSIDE=scx$S
live_log "scale-out topology $S, files in $LIVE_TMP"

r_exec() { ip netns exec "$ROUTER" "$@"; }
m_exec() { ip netns exec "$MESH" "$@"; }
a_ns() { echo "sca$1$S"; }
a_inside() { echo "10.8.0.1$1"; }
a_nat() { echo "198.51.100.1$1"; }
now() { date +%s.%N; }

# --- topology ---------------------------------------------------------------

topology_up() {
	local i ns
	live_netns_add "$MESH" || live_skip "cannot create network namespaces here (ip netns add)"
	live_netns_add "$ROUTER" || live_die "ip netns add $ROUTER"
	live_netns_add "$OUTSIDE" || live_die "ip netns add $OUTSIDE"

	ip -n "$MESH" link add mm type veth peer name rm netns "$ROUTER"
	live_offloads_off mm "$MESH" && live_offloads_off rm "$ROUTER" || live_die "offloads"
	ip -n "$MESH" addr add 10.8.1.2/24 dev mm
	ip -n "$MESH" link set mm up
	ip -n "$MESH" route add default via 10.8.1.1
	# The router hashes the sender's skb hash (a TCP socket's random
	# txhash, carried over the veth) rather than the 5-tuple, and Linux
	# picks a new txhash on each retransmission timeout: a session ECMP
	# moved would find its appliance again by chance. A router on another
	# box hashes the 5-tuple, stable for the session: so is this.
	ip netns exec "$MESH" sysctl -q -w net.core.txrehash=0

	ip -n "$ROUTER" addr add 10.8.1.1/24 dev rm
	ip -n "$ROUTER" link set rm up
	ip -n "$ROUTER" link add brin type bridge
	ip -n "$ROUTER" addr add 10.8.0.1/16 dev brin
	ip -n "$OUTSIDE" link add brout type bridge
	ip -n "$OUTSIDE" addr add "$REDIS/24" dev brout
	for i in $(seq "$N_APP"); do
		ns=$(a_ns "$i")
		live_netns_add "$ns" || live_die "ip netns add $ns"
		ip -n "$ns" link add vin type veth peer name "a${i}i" netns "$ROUTER"
		ip -n "$ns" link add vout type veth peer name "a${i}o" netns "$OUTSIDE"
		live_offloads_off vin "$ns" && live_offloads_off vout "$ns" &&
			live_offloads_off "a${i}i" "$ROUTER" && live_offloads_off "a${i}o" "$OUTSIDE" ||
			live_die "offloads on appliance $i's veths"
		ip -n "$ns" link set vin up
		ip -n "$ns" link set vout up
		ip -n "$ROUTER" link set "a${i}i" master brin up
		ip -n "$OUTSIDE" link set "a${i}o" master brout up
	done
	ip -n "$ROUTER" link set brin up
	ip -n "$OUTSIDE" link set brout up
	live_offloads_off brin "$ROUTER" && live_offloads_off brout "$OUTSIDE" || live_die "offloads"
	# the router: forwards, hashes ECMP on L4 (every client has one address),
	# answers ARP for the mesh on brin (egressd sees the mesh on its /16)
	r_exec sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.brin.rp_filter=0 net.ipv4.conf.brin.proxy_arp=1 \
		net.ipv4.neigh.brin.proxy_delay=0
	ip netns exec "$OUTSIDE" redis-server --port 6379 --bind "$REDIS" --protected-mode no \
		--save '' --appendonly no --daemonize no --dir "$LIVE_TMP" --maxclients 1000 \
		>"$LIVE_TMP/redis.log" 2>&1 &
	live_track_pid "$!"
	for i in $(seq 50); do
		[[ "$(ip netns exec "$OUTSIDE" redis-cli -h "$REDIS" PING 2>/dev/null)" == PONG ]] && break
		sleep 0.1
	done
}

# --- FRR ----------------------------------------------------------------------

BFD_CONF='bfd
 profile fast
  detect-multiplier 3
  receive-interval 200
  transmit-interval 200
 !
!'

# frr_start NAME NETNS: zebra, bfdd, bgpd of one instance, its configs
# already in $LIVE_TMP/frr-NAME (bgpd.conf), foreground processes tracked.
# Sets FRR_PIDS_<NAME> (space separated).
frr_start() {
	local name=$1 ns=$2 d="$LIVE_TMP/frr-$1" daemon pids=() i
	printf 'no zebra nexthop kernel enable\n' >"$d/zebra.conf"
	printf '%s\n' "$BFD_CONF" >"$d/bfdd.conf"
	rm -f "$d"/*.api "$d"/*.vty "$d"/*.sock "$d"/*.pid # a previous run's
	chown -R frr:frr "$d"
	for daemon in zebra bfdd bgpd; do
		local extra=()
		[[ $daemon == bfdd ]] && extra=(--bfdctl "$d/bfdd.sock")
		ip netns exec "$ns" nice -n -5 "$FRR_DIR/$daemon" -u frr -g frr -P 0 -f "$d/$daemon.conf" \
			-i "$d/$daemon.pid" -z "$d/zserv.api" --vty_socket "$d" \
			--log "file:$d/$daemon.log" "${extra[@]}" >"$d/$daemon.out" 2>&1 &
		pids+=("$!")
		live_track_pid "$!"
		if [[ $daemon == zebra ]]; then
			for ((i = 0; i < 50; i++)); do
				[[ -S "$d/zserv.api" ]] && break
				sleep 0.1
			done
		fi
	done
	printf -v "FRR_PIDS_$name" '%s' "${pids[*]}"
}

frr_stop() {
	local var="FRR_PIDS_$1" p
	for p in ${!var}; do
		live_stop_pid "$p" TERM 5 || true
	done
}

vty() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" vtysh --vty_socket "$LIVE_TMP/frr-$name" "$@"
}

router_frr_up() {
	local d="$LIVE_TMP/frr-router" i
	mkdir -p "$d"
	{
		echo 'router bgp 65000'
		echo ' bgp router-id 10.8.0.1'
		echo ' no bgp ebgp-requires-policy'
		echo ' neighbor APP peer-group'
		echo ' neighbor APP remote-as 65001'
		echo ' neighbor APP bfd'
		echo ' neighbor APP bfd profile fast'
		echo ' neighbor APP timers 3 9'
		echo ' neighbor APP timers connect 1'
		echo ' neighbor APP advertisement-interval 0'
		for i in $(seq "$N_APP"); do
			echo " neighbor $(a_inside "$i") peer-group APP"
		done
		echo ' address-family ipv4 unicast'
		echo '  maximum-paths 8'
		echo ' exit-address-family'
	} >"$d/bgpd.conf"
	frr_start router "$ROUTER"
}

# appliance_frr_up I: FRR beside appliance I's egressd, on its TAP scin.
appliance_frr_up() {
	local i=$1 d="$LIVE_TMP/frr-a$1"
	mkdir -p "$d"
	cat >"$d/bgpd.conf" <<-EOF
	router bgp 65001
	 bgp router-id $(a_inside "$i")
	 no bgp ebgp-requires-policy
	 no bgp network import-check
	 neighbor 10.8.0.1 remote-as 65000
	 neighbor 10.8.0.1 update-source $(a_inside "$i")
	 neighbor 10.8.0.1 bfd
	 neighbor 10.8.0.1 bfd profile fast
	 neighbor 10.8.0.1 timers 3 9
	 neighbor 10.8.0.1 timers connect 1
	 neighbor 10.8.0.1 advertisement-interval 0
	 address-family ipv4 unicast
	  network $PREFIX
	 exit-address-family
	EOF
	frr_start "a$i" "$(a_ns "$i")"
}

# --- egressd ------------------------------------------------------------------

declare -A EG_PID EG_PREFIX EG_OUT EG_SOCK EG_SYNC
EG_RUN=0

# egressd_up I: write appliance I's config (with EG_SYNC[I], a sync
# section, if set) and start its egressd in its namespace, waited for until
# ready.
egressd_up() {
	local i=$1 d="$LIVE_TMP/a$1"
	mkdir -p "$d/policy"
	cat >"$d/policy/redis.yaml" <<-EOF
	apiVersion: networking.istio.io/v1alpha3
	kind: ServiceEntry
	metadata: { name: redis }
	spec:
	  hosts: [redis.example]
	  addresses: [$REDIS]
	  ports: [{ number: 6379, name: tcp-redis, protocol: TCP }]
	  location: MESH_EXTERNAL
	EOF
	cat >"$d/egressd.yaml" <<-EOF
	ports:
	  inside:  { device: "net_af_packet0,iface=vin", address: $(a_inside "$i")/16,
	             exception: { tap: scin, protocols: [tcp/179, udp/3784] } }
	  outside: { device: "net_af_packet1,iface=vout", address: $(a_nat "$i")/24,
	             gateway: $REDIS }
	policy: { outbound: REGISTRY_ONLY, deny: drop, sources: [policy/] }
	flows: { no_flow: reset, timeouts: { established: 5s, transitory: 2s, time_wait: 1s } }
	workers: 1
	poll: { idle: backoff }
	api: { socket: $d/egressd.sock }
	EOF
	[[ -z "${EG_SYNC[$i]:-}" ]] || echo "${EG_SYNC[$i]}" >>"$d/egressd.yaml"
	EG_RUN=$((EG_RUN + 1))
	EG_PREFIX[$i]="scale${S}a${i}r$EG_RUN"
	EG_OUT[$i]="$d/egressd-$EG_RUN.out"
	EG_SOCK[$i]="$d/egressd.sock"
	bench_track_prefix "${EG_PREFIX[$i]}"
	# shellcheck disable=SC2086 # LIVE_LCORES is one or more EAL words
	ip netns exec "$(a_ns "$i")" nice -n -5 "$EGRESSD" --no-huge -m 256 --no-pci ${LIVE_LCORES:--l 0,1} \
		--file-prefix "${EG_PREFIX[$i]}" --log-level='egressd.*:info' -- -c "$d/egressd.yaml" \
		>"${EG_OUT[$i]}" 2>"$d/egressd-$EG_RUN.log" &
	EG_PID[$i]=$!
	live_track_pid "$!"
	bench_wait_for "${EG_OUT[$i]}" '^egressd: ready' "${EG_PID[$i]}" "$LIVE_READY_TIMEOUT"
}

ctl() {
	local i=$1
	shift
	"$EGRESSCTL" -s "${EG_SOCK[$i]}" "$@"
}

# --- the route, as the router's kernel has it ---------------------------------

# The watcher: polls the BGP route every 10 ms, logs "TIME GW GW..." (kernel
# order) on each change; with "resilient", mirrors the next hops into the
# resilient group 100 (members: ids 100 + last octet) and table 100.
write_watcher() {
	cat >"$LIVE_TMP/watch_route.py" <<-'PY'
	import json
	import socket
	import struct
	import subprocess
	import sys
	import time

	prefix, log, mode = sys.argv[1], sys.argv[2], sys.argv[3]


	def ip(*args, check=True):
	    return subprocess.run(("ip",) + args, capture_output=True, text=True, check=check).stdout


	def gateways():
	    r = json.loads(ip("-j", "route", "show", prefix, "proto", "bgp", check=False) or "[]")
	    if not r:
	        return []
	    if "nexthops" in r[0]:
	        return [n["gateway"] for n in r[0]["nexthops"]]
	    return [r[0]["gateway"]] if "gateway" in r[0] else []


	def alive(gw):
	    # egressd's data path answers ICMP echo on its inside address: a
	    # drained appliance does, a killed or stalled one does not
	    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	    s.settimeout(0.3)
	    msg = struct.pack("!BBHHH", 8, 0, 0, 0x5ca1, 1) + b"scale-out-alive?"
	    c = sum(struct.unpack("!%dH" % (len(msg) // 2), msg))
	    c = (c & 0xFFFF) + (c >> 16)
	    msg = msg[:2] + struct.pack("!H", ~((c & 0xFFFF) + (c >> 16)) & 0xFFFF) + msg[4:]
	    s.sendto(msg, (gw, 0))
	    end = time.time() + 0.3
	    try:
	        while time.time() < end:
	            pkt, peer = s.recvfrom(2048)
	            icmp = pkt[(pkt[0] & 0xF) * 4:]
	            if peer[0] == gw and icmp[0] == 0 and icmp[4:6] == b"\x5c\xa1":
	                return True
	    except socket.timeout:
	        pass
	    finally:
	        s.close()
	    return False


	def install(members):
	    # members: {gateway: weight}; weight 1: withdrawn but alive (draining)
	    if not members:
	        ip("route", "del", prefix, "table", "100", check=False)
	        return
	    group = []
	    for g, w in sorted(members.items()):
	        nid = str(100 + int(g.split(".")[3]))
	        ip("nexthop", "replace", "id", nid, "via", g, "dev", "brin")
	        group.append("%s,%d" % (nid, w))
	    ip("nexthop", "replace", "id", "100", "group", "/".join(group), "type", "resilient",
	       "buckets", "4096", "idle_timer", "1")
	    ip("route", "replace", prefix, "nhid", "100", "table", "100")


	last, members, next_check = None, {}, 0
	with open(log, "a") as f:
	    while True:
	        g = gateways()
	        changed = g != last
	        if changed and mode == "log":
	            f.write("%.3f %s\n" % (time.time(), " ".join(g)))
	            f.flush()
	        last = g
	        if mode == "resilient" and (changed or (time.time() >= next_check and
	                                                len(members) > len(g))):
	            want = {gw: 255 for gw in g}
	            for gw in members:
	                if gw not in want and alive(gw):
	                    want[gw] = 1
	            if want != members:
	                install(want)
	                f.write("%.3f group %s\n" % (time.time(), " ".join(
	                    "%s,%d" % kv for kv in sorted(want.items()))))
	                f.flush()
	                members = want
	            next_check = time.time() + 0.5
	        time.sleep(0.01)
	PY
}

ROUTE_LOG="$LIVE_TMP/route.log"

# watcher_start MODE: "log" (the route's changes, to ROUTE_LOG) or
# "resilient" (the group's, to group.log), in the background.
watcher_start() {
	local log=$ROUTE_LOG
	[[ $1 == resilient ]] && log="$LIVE_TMP/group.log"
	ip netns exec "$ROUTER" nice -n -5 python3 "$LIVE_TMP/watch_route.py" "$PREFIX" "$log" "$1" \
		>"$LIVE_TMP/watcher-$1.log" 2>&1 &
	live_track_pid "$!"
}

# The next hops the route has now (the watcher's last line).
route_now() {
	grep -v ' group ' "$ROUTE_LOG" | tail -n 1 | cut -d' ' -f2-
}

# wait_route N SECONDS: the route has N next hops.
wait_route() {
	local n=$1 secs=$2 k
	for ((k = 0; k < secs * 10; k++)); do
		[[ -s "$ROUTE_LOG" ]] && (($(route_now | wc -w) == n)) && return 0
		sleep 0.1
	done
	return 1
}

# withdraw_ms T0 GW: milliseconds from T0 to the first change at or after
# it whose next hops no longer include GW; nothing if none yet.
withdraw_ms() {
	awk -v t0="$1" -v gw="$2" '
		$1 >= t0 { found = 0; for (i = 2; i <= NF; i++) if ($i == gw) found = 1
			   if (!found) { printf "%d\n", ($1 - t0) * 1000; exit } }' "$ROUTE_LOG"
}

# wait_withdraw T0 GW: waits (5 s at most) and prints withdraw_ms.
wait_withdraw() {
	local k ms
	for ((k = 0; k < 50; k++)); do
		ms=$(withdraw_ms "$1" "$2")
		[[ -n "$ms" ]] && break
		sleep 0.1
	done
	echo "${ms:-none}"
}

# --- clients --------------------------------------------------------------------

declare -A CLI_PID CLI_APP CLI_PORT
CLI_N=0

# clients_start SET N: N long-lived redis-cli sessions in the mesh, a PING
# every 100 ms each, named SET-k.
clients_start() {
	local set=$1 n=$2 k
	for ((k = 0; k < n; k++)); do
		# not m_exec: $! must be redis-cli itself (ip netns exec execs it)
		ip netns exec "$MESH" redis-cli -h "$REDIS" -p 6379 -r -1 -i 0.1 PING \
			>"$LIVE_TMP/cli-$set-$k.log" 2>&1 &
		CLI_PID[$set-$k]=$!
		live_track_pid "$!"
		CLI_N=$((CLI_N + 1))
	done
}

# wait_sessions N [SECONDS]: N sessions established in the mesh (10 s).
wait_sessions() {
	local k
	for ((k = 0; k < ${2:-10} * 10; k++)); do
		(($(m_exec ss -Htn state established '( dport = :6379 )' | wc -l) >= $1)) && return 0
		sleep 0.1
	done
	return 1
}

# clients_map SET N: each session's local port (ss, by PID) and the
# appliance whose flow table holds it (egressctl flows, each alive one).
clients_map() {
	local set=$1 n=$2 k i port
	local -A port_of app_of
	m_exec ss -Htnp state established '( dport = :6379 )' >"$LIVE_TMP/ss-$set.txt"
	while read -r port pid; do
		port_of[$pid]=$port
	done < <(sed -n -E 's/.*:([0-9]+) +[0-9.]+:6379 .*pid=([0-9]+),.*/\1 \2/p' "$LIVE_TMP/ss-$set.txt")
	for i in $(seq "$N_APP"); do
		kill -0 "${EG_PID[$i]}" 2>/dev/null || continue
		while read -r port; do
			app_of[$port]=$i
		done < <(ctl "$i" --json flows --dst "$REDIS" --port 6379 | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["sport"])')
	done
	for ((k = 0; k < n; k++)); do
		port=${port_of[${CLI_PID[$set-$k]}]:-unknown}
		CLI_PORT[$set-$k]=$port
		CLI_APP[$set-$k]=${app_of[$port]:-none}
	done
}

pongs() {
	grep -c '^PONG' "$LIVE_TMP/cli-$1.log" || true
}

errors() {
	grep -c -i -E 'error|could not' "$LIVE_TMP/cli-$1.log" || true
}

# The sessions of SET (N) on appliance APP ("*": any), one a line.
sessions_on() {
	local set=$1 n=$2 app=$3 k
	for ((k = 0; k < n; k++)); do
		if [[ $app == "*" || ${CLI_APP[$set-$k]} == "$app" ]]; then
			echo "$set-$k"
		fi
	done
}

# Lines on stdin.
nlines() {
	grep -c . || true
}

declare -A MARK_PONG MARK_ERR

# mark C...: the sessions' errors so far (not_progressing counts new ones).
mark() {
	local c
	for c in "$@"; do
		MARK_ERR[$c]=$(errors "$c")
	done
}

# mark_pongs C...: their answers so far (not_progressing, stalled count from
# here: called once the route changed, plus 0.5 s).
mark_pongs() {
	local c
	for c in "$@"; do
		MARK_PONG[$c]=$(pongs "$c")
	done
}

# not_progressing C...: those of the sessions that did not answer >= 5
# PINGs since mark_pongs, or had a new error since mark, or are no longer
# on the same local port; space separated.
not_progressing() {
	local c out=() port
	for c in "$@"; do
		port=$(m_exec ss -Htnp state established '( dport = :6379 )' |
			sed -n -E "s/.*:([0-9]+) +[0-9.]+:6379 .*pid=${CLI_PID[$c]},.*/\1/p")
		if (($(pongs "$c") - MARK_PONG[$c] < 5)) || (($(errors "$c") != MARK_ERR[$c])) ||
			[[ "$port" != "${CLI_PORT[$c]}" ]]; then
			out+=("$c")
		fi
	done
	echo "${out[*]}"
}

# reset_seen C...: those that had a new error since mark, a connection
# reset (the survivor's RST, flows.no_flow: reset), one a line.
reset_seen() {
	local c
	for c in "$@"; do
		if (($(errors "$c") > MARK_ERR[$c])) && grep -q -i 'reset' "$LIVE_TMP/cli-$c.log"; then
			echo "$c"
		fi
	done
}

# moved C...: those a route change moved (stalled, or reset: a new error), one a line.
moved() {
	local c
	for c in "$@"; do
		if (($(pongs "$c") - MARK_PONG[$c] <= 1)) || (($(errors "$c") > MARK_ERR[$c])); then
			echo "$c"
		fi
	done
}


clients_stop() {
	local c
	for c in "$@"; do
		live_stop_pid "${CLI_PID[$c]}" TERM 5 || true
	done
}

# spread_ok SET: each of its N_CLIENTS sessions was found on an appliance,
# and every appliance has some.
spread_ok() {
	local set=$1 i k ok=0
	for ((k = 0; k < N_CLIENTS; k++)); do
		if [[ ${CLI_APP[$set-$k]} == none ]]; then
			echo "  session $set-$k (pid ${CLI_PID[$set-$k]}, port ${CLI_PORT[$set-$k]}) on no appliance"
			ok=1
		fi
	done
	for i in $(seq "$N_APP"); do
		[[ -n "$(sessions_on "$set" "$N_CLIENTS" "$i")" ]] || ok=1
	done
	return $ok
}

# appliance_kill I: SIGKILL its egressd; prints the time just before.
appliance_kill() {
	local t
	t=$(now)
	kill -KILL "${EG_PID[$1]}"
	echo "$t"
}

appliance_restart() {
	local i=$1
	live_stop_pid "${EG_PID[$i]}" KILL 5 || true
	rm -rf "/var/run/dpdk/${EG_PREFIX[$i]}"
	frr_stop "a$i"
	egressd_up "$i" || live_die "appliance $i: egressd restarted"
	appliance_frr_up "$i"
}

gw_app() {
	echo "${1##*.1}"
}

# sessions_up SET LABEL: N_CLIENTS sessions of SET started and found on
# their appliances; checks the spread. Sets ALL (the sessions).
sessions_up() {
	local set=$1 label=$2 i spread=""
	clients_start "$set" "$N_CLIENTS"
	wait_sessions "$N_CLIENTS" || live_log "not all $N_CLIENTS sessions established"
	sleep 1
	clients_map "$set" "$N_CLIENTS"
	mapfile -t ALL < <(sessions_on "$set" "$N_CLIENTS" "*")
	for i in $(seq "$N_APP"); do
		spread+=" a$i=$(sessions_on "$set" "$N_CLIENTS" "$i" | nlines)"
	done
	live_check "$label: spread: $N_CLIENTS sessions, on every appliance ($spread)" spread_ok "$set"
}

# kill_victim SET LABEL: SIGKILL of appliance VICTIM's egressd under the
# load of SET; checks the route is withdrawn in time and, 3.5 s on, that the
# victim's sessions were reset. Sets KILL_MS, SURVIVORS, VICTIMS.
kill_victim() {
	local set=$1 label=$2 t0
	live_log "$label: killing appliance $VICTIM (next hop $(a_inside "$VICTIM"))"
	mark "${ALL[@]}"
	t0=$(appliance_kill "$VICTIM")
	KILL_MS=$(wait_withdraw "$t0" "$(a_inside "$VICTIM")")
	live_check "$label: SIGKILL of appliance $VICTIM: route withdrawn in $KILL_MS ms (< $WITHDRAW_MAX_MS)" \
		test "$KILL_MS" != none -a "${KILL_MS/none/99999}" -lt "$WITHDRAW_MAX_MS"
	sleep 0.5
	mark_pongs "${ALL[@]}"
	sleep 3
	mapfile -t SURVIVORS < <(for i in $(seq "$N_APP"); do
		((i == VICTIM)) || sessions_on "$set" "$N_CLIENTS" "$i"
	done)
	mapfile -t VICTIMS < <(sessions_on "$set" "$N_CLIENTS" "$VICTIM")
	live_check "$label: the killed appliance's ${#VICTIMS[@]} sessions failed fast (no session sync; flows.no_flow: reset): a connection reset within 3.5 s of the withdrawal" \
		test "$(reset_seen "${VICTIMS[@]}" | nlines)" = "${#VICTIMS[@]}"
}

# --- the run ---------------------------------------------------------------------

topology_up
write_watcher
for i in $(seq "$N_APP"); do
	egressd_up "$i" || live_die "appliance $i: egressd ready in $(a_ns "$i")"
done
live_pass "$N_APP egressd appliances ready (net_af_packet, poll.idle backoff, exception TAP scin)"
router_frr_up
for i in $(seq "$N_APP"); do
	appliance_frr_up "$i"
done
watcher_start log
live_check "BGP+BFD through each egressd's exception path: $PREFIX has $N_APP next hops" \
	wait_route "$N_APP" 60
# bfd_up [N]: the router has N (N_APP) BFD sessions up.
bfd_up() {
	(($(vty router "$ROUTER" -c 'show bfd peers json' |
		python3 -c 'import json,sys; print(sum(p["status"] == "up" for p in json.load(sys.stdin)))') == ${1:-N_APP}))
}
wait_bfd() {
	local k i
	for ((k = 0; k < 300; k++)); do
		bfd_up "$@" && return 0
		sleep 0.1
	done
	vty router "$ROUTER" -c 'show bfd peers' -c 'show bgp summary'
	for i in $(seq "$N_APP"); do
		vty "a$i" "$(a_ns "$i")" -c 'show bfd peers' || true
	done
	return 1
}
live_check "the router's $N_APP BFD sessions up (3 x 200 ms)" wait_bfd
live_log "route: $(route_now); router's BFD peers:"
vty router "$ROUTER" -c 'show bfd peers brief' | sed 's/^/#   /' || true

# 1. plain ECMP: spread, then SIGKILL of the route's first next hop
# a first round of short sessions: every appliance has resolved the mesh
for k in $(seq 30); do
	m_exec timeout 5 redis-cli -h "$REDIS" PING >/dev/null 2>&1 || true
done
sessions_up p "plain ECMP"
VICTIM=$(gw_app "$(route_now | cut -d' ' -f1)")
kill_victim p "plain ECMP"
PLAIN_MS=$KILL_MS
PLAIN_MOVED=$(moved "${SURVIVORS[@]}" | nlines)
PLAIN_SURV=${#SURVIVORS[@]}
live_check "plain ECMP moves survivors' sessions ($PLAIN_MOVED of $PLAIN_SURV stalled or reset): resilient groups are needed" \
	test "$PLAIN_MOVED" -gt 0
clients_stop "${ALL[@]}"

# 2. resilient group: the same appliance back, the same kill again
appliance_restart "$VICTIM"
live_check "appliance $VICTIM restarted: $PREFIX has $N_APP next hops again" wait_route "$N_APP" 60
live_check "appliance $VICTIM restarted: its BFD session up again" wait_bfd
r_exec ip rule add iif rm lookup 100 pref 100
watcher_start resilient
sleep 0.5
live_log "resilient group: $(r_exec ip nexthop show id 100)"
live_check "resilient group 100 has $N_APP members, the mesh's route uses it" \
	test "$(r_exec ip -j nexthop show id 100 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["group"]))')" = "$N_APP" -a \
	"$(r_exec ip route get "$REDIS" iif rm from 10.8.1.2 | grep -c 'table 100')" = 1
sessions_up r "resilient"
kill_victim r "resilient"
RES_MS=$KILL_MS
failed=$(not_progressing "${SURVIVORS[@]}")
RES_MOVED=$(echo "$failed" | wc -w)
RES_SURV=${#SURVIVORS[@]}
live_check "resilient: all $RES_SURV survivors' sessions keep answering, same connection, no error${failed:+ (not: $failed)}" \
	test -z "$failed"

# 3. drain a survivor
DRAINED=""
for i in $(seq "$N_APP"); do
	((i == VICTIM)) || { DRAINED=$i; break; }
done
OTHER=""
for i in $(seq "$N_APP"); do
	((i == VICTIM || i == DRAINED)) || OTHER=$i
done
mapfile -t own < <(sessions_on r "$N_CLIENTS" "$DRAINED")
mark "${own[@]}"
created0=$(ctl "$DRAINED" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows_created"])')
t0=$(now)
ctl "$DRAINED" drain --deadline 60 | sed 's/^/#   /'
ms=$(wait_withdraw "$t0" "$(a_inside "$DRAINED")")
DRAIN_MS=$ms
live_check "drain of appliance $DRAINED: route withdrawn in $ms ms (< $WITHDRAW_MAX_MS)" \
	test "$ms" != none -a "${ms/none/99999}" -lt "$WITHDRAW_MAX_MS"
mark_pongs "${own[@]}"
live_check "egressctl stats: draining 1, drain_left_ms > 0" \
	test "$(ctl "$DRAINED" --json stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["draining"], s["drain_left_ms"] > 0)')" = "1 True"
sleep 1.5 # the drained member's idle buckets move (idle_timer 1 s)
live_log "resilient group while draining: $(r_exec ip nexthop show id 100)"
held=$(r_exec ip nexthop bucket list id 100 | grep -c -w "nhid $((100 + 10 + DRAINED))" || true)
live_log "the drained appliance still holds $held of 4096 buckets (its busy ones, and its share at weight 1)"
clients_start d 8
wait_sessions $((N_CLIENTS + 8)) 20 || live_log "not all 8 new sessions established"
sleep 1
clients_map d 8
new_other=$(sessions_on d 8 "$OTHER" | nlines)
refused=$(ctl "$DRAINED" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"]["draining"])')
DRAIN_NEW="$new_other of 8 on appliance $OTHER; SYNs the drained one refused: $refused"
live_log "drain: new sessions: $DRAIN_NEW"
live_check "drain: the 8 new sessions land on appliance $OTHER ($DRAIN_NEW)" test "$new_other" = 8
created1=$(ctl "$DRAINED" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows_created"])')
live_check "drain: appliance $DRAINED created no flow ($created0 -> $created1)" test "$created0" = "$created1"
failed=$(not_progressing "${own[@]}")
live_check "drain: the drained appliance's ${#own[@]} sessions keep answering${failed:+ (not: $failed)}" \
	test -z "$failed"
clients_stop "${own[@]}"
if bench_wait_exit "${EG_PID[$DRAINED]}" 15; then
	wait "${EG_PID[$DRAINED]}" && rc=0 || rc=$?
	bench_forget_pid "${EG_PID[$DRAINED]}"
else
	rc=timeout
	ctl "$DRAINED" flows
fi
live_check "drain: appliance $DRAINED exited by itself once its sessions ended (status $rc)" test "$rc" = 0
live_check "drain: its log says \"drained: no flow left\"" \
	grep -q 'drained: no flow left' "$LIVE_TMP/a$DRAINED/egressd-"*.log
final=$(grep '^[[:space:]]*{' "${EG_OUT[$DRAINED]}" | tail -n 1 || true)
live_check "drain: its final JSON says draining 1" \
	test "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["draining"])' "$final")" = 1

# 4. a stall: SIGSTOP of the last appliance's egressd (every thread stops:
# the worker no longer hands BFD frames on), then SIGCONT
mapfile -t ALL < <(sessions_on d 8 "*")
t0=$(now)
kill -STOP "${EG_PID[$OTHER]}"
STALL_MS=$(wait_withdraw "$t0" "$(a_inside "$OTHER")")
live_check "stall (SIGSTOP) of appliance $OTHER: route withdrawn in $STALL_MS ms (< $WITHDRAW_MAX_MS)" \
	test "$STALL_MS" != none -a "${STALL_MS/none/99999}" -lt "$WITHDRAW_MAX_MS"
kill -CONT "${EG_PID[$OTHER]}"
live_check "SIGCONT: appliance $OTHER announced again" wait_route 1 30
sleep 2
mark "${ALL[@]}"
mark_pongs "${ALL[@]}"
sleep 3
failed=$(not_progressing "${ALL[@]}")
live_check "after the stall its ${#ALL[@]} sessions answer again, same connection${failed:+ (not: $failed)}" \
	test -z "$failed"

# 5. session sync: appliances SA and SB restarted, each syncing its flows to
# the other over a veth of their own (vsync: not an egressd port, so the
# sync datagrams go through the namespaces' kernels, never through egressd's
# data path), the third stopped; SIGKILL of SA under load: its sessions
# continue on SB
SA=$VICTIM
SB=$DRAINED
a_sync() { echo "10.9.0.1$1"; }
# stat_of I KEY: a counter of appliance I (egressctl --json stats)
stat_of() {
	ctl "$1" --json stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}
# stat_ge I KEY MIN: the counter is >= MIN
stat_ge() {
	local v
	v=$(stat_of "$1" "$2")
	[[ -n "$v" ]] && ((v >= $3))
}
# group_is N: the resilient group has N members
group_is() {
	(($(r_exec ip -j nexthop show id 100 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["group"]))' 2>/dev/null || echo 0) == $1))
}
# poll_until SECONDS CMD...: CMD every 0.1 s until it succeeds
poll_until() {
	local k secs=$1
	shift
	for ((k = 0; k < secs * 10; k++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
clients_stop "${!CLI_PID[@]}"
ip -n "$(a_ns "$SA")" link add vsync type veth peer name vsync netns "$(a_ns "$SB")"
for i in "$SA" "$SB"; do
	ip -n "$(a_ns "$i")" addr add "$(a_sync "$i")/24" dev vsync
	ip -n "$(a_ns "$i")" link set vsync up
done
# sync_conf I PEER: appliance I's sync section, to PEER (max_flows: the
# default, flows.max, does not fit egressd's -m 256 beside its flow table)
sync_conf() {
	printf 'sync:\n  listen: %s:4789\n  peer: %s:4789\n  peer_addresses: [%s]\n  dead_after: 500ms\n  max_flows: 4096\n' \
		"$(a_sync "$1")" "$(a_sync "$2")" "$(a_nat "$2")"
}
EG_SYNC[$SA]=$(sync_conf "$SA" "$SB")
EG_SYNC[$SB]=$(sync_conf "$SB" "$SA")
appliance_restart "$SA"
appliance_restart "$SB"
live_stop_pid "${EG_PID[$OTHER]}" TERM 5 || true
rm -rf "/var/run/dpdk/${EG_PREFIX[$OTHER]}"
frr_stop "a$OTHER"
live_check "sync: appliances $SA and $SB restarted with session sync, $OTHER stopped: $PREFIX has 2 next hops" \
	wait_route 2 60
live_check "sync: the router's 2 BFD sessions up" wait_bfd 2
live_check "sync: the resilient group has 2 members" poll_until 10 group_is 2
live_log "resilient group: $(r_exec ip nexthop show id 100)"
live_check "sync: each appliance hears its peer (sync_peer_alive 1 on both)" \
	test "$(stat_of "$SA" sync_peer_alive) $(stat_of "$SB" sync_peer_alive)" = "1 1"
clients_start s "$N_CLIENTS"
wait_sessions "$N_CLIENTS" || live_log "not all $N_CLIENTS sessions established"
sleep 1
clients_map s "$N_CLIENTS"
mapfile -t ALL < <(sessions_on s "$N_CLIENTS" "*")
mapfile -t OWN_A < <(sessions_on s "$N_CLIENTS" "$SA")
mapfile -t OWN_B < <(sessions_on s "$N_CLIENTS" "$SB")
live_check "sync: $N_CLIENTS sessions, on both appliances (a$SA=${#OWN_A[@]} a$SB=${#OWN_B[@]})" \
	test "$((${#OWN_A[@]} + ${#OWN_B[@]}))" = "$N_CLIENTS" -a "${#OWN_A[@]}" -gt 0 -a "${#OWN_B[@]}" -gt 0
live_check "sync: appliance $SB holds appliance $SA's ${#OWN_A[@]} flows before the failure" \
	poll_until 5 stat_ge "$SB" sync_peer_flows "${#OWN_A[@]}"
mark "${ALL[@]}"
mark_pongs "${ALL[@]}"
t0=$(appliance_kill "$SA")
SYNC_TAKEOVER=none
for ((k = 0; k < 100; k++)); do
	if [[ "$(stat_of "$SB" sync_takeover)" == 1 ]]; then
		SYNC_TAKEOVER=$(python3 -c "print(int(($(now) - $t0) * 1000))")
		break
	fi
	sleep 0.05
done
SYNC_MS=$(wait_withdraw "$t0" "$(a_inside "$SA")")
live_check "sync: SIGKILL of appliance $SA: route withdrawn in $SYNC_MS ms (< $WITHDRAW_MAX_MS)" \
	test "$SYNC_MS" != none -a "${SYNC_MS/none/99999}" -lt "$WITHDRAW_MAX_MS"
live_check "sync: appliance $SB took over appliance $SA's NAT address (seen $SYNC_TAKEOVER ms after the SIGKILL)" \
	test "$SYNC_TAKEOVER" != none
# A's sessions answer again: each one's time to its 2nd PONG after the kill
# (and, at 2 s, the fewest PONGs a session of B's own had since the kill)
declare -A RESUMED=()
n=0
B_MIN=""
t0us=$(python3 -c "print(int($t0 * 1000000))")
for ((k = 0; k < 150; k++)); do
	((n < ${#OWN_A[@]})) || [[ -z $B_MIN ]] || break
	if [[ -z $B_MIN ]] && ((${EPOCHREALTIME/./} - t0us >= 2000000)); then
		B_MIN=$(for c in "${OWN_B[@]}"; do echo $(($(pongs "$c") - MARK_PONG[$c])); done | sort -n | head -n 1)
		B_AT=$(((${EPOCHREALTIME/./} - t0us) / 1000))
	fi
	for c in "${OWN_A[@]}"; do
		if [[ -z "${RESUMED[$c]:-}" ]] && (($(pongs "$c") - MARK_PONG[$c] >= 2)); then
			RESUMED[$c]=$(((${EPOCHREALTIME/./} - t0us) / 1000))
			n=$((n + 1))
		fi
	done
	sleep 0.1
done
SYNC_RESUMED=$( ((n == 0)) || printf '%s\n' "${RESUMED[@]}" | sort -n | sed -n '1p;$p' | paste -sd' ')
live_log "sync: appliance $SA's sessions answered again ${SYNC_RESUMED:-never} ms (first, last) after the SIGKILL"
live_log "resilient group: $(r_exec ip nexthop show id 100)"
# every session: >= 5 PONGs since the kill, the same connection, no error
failed=$(not_progressing "${OWN_A[@]}")
SYNC_KEPT=$((${#OWN_A[@]} - $(echo "$failed" | wc -w)))
live_check "sync: appliance $SA's sessions continue on appliance $SB: $SYNC_KEPT of ${#OWN_A[@]}, same connection, no error${failed:+ (not: $failed)}" \
	test -z "$failed"
failed=$(not_progressing "${OWN_B[@]}")
live_check "sync: appliance $SB's own ${#OWN_B[@]} sessions unaffected: each answered >= 5 PINGs in the kill's first ${B_AT:-?} ms (fewest: $B_MIN), same connection, no error${failed:+ (not: $failed)}" \
	test -z "$failed" -a "${B_MIN:-0}" -ge 5
live_check "sync: appliance $SB installed appliance $SA's flows ($(stat_of "$SB" sync_flows_installed) of ${#OWN_A[@]})" \
	test "$(stat_of "$SB" sync_flows_installed)" -ge "${#OWN_A[@]}"
mark_pongs "${ALL[@]}"
sleep 3
failed=$(not_progressing "${ALL[@]}")
live_check "sync: 3 s on, all $N_CLIENTS sessions answer through appliance $SB${failed:+ (not: $failed)}" \
	test -z "$failed"
clients_stop "${ALL[@]}"

echo "# figures: route withdrawn after SIGKILL: plain ECMP $PLAIN_MS ms, resilient $RES_MS ms;" \
	"after drain: $DRAIN_MS ms; after a stall (SIGSTOP): $STALL_MS ms"
echo "# figures: surviving appliances' sessions moved by the kill: plain ECMP $PLAIN_MOVED of" \
	"$PLAIN_SURV, resilient group $RES_MOVED of $RES_SURV"
echo "# figures: drain: ${#own[@]} sessions of the drained appliance kept; new sessions: $DRAIN_NEW"
echo "# figures: session sync: route withdrawn $SYNC_MS ms after SIGKILL, takeover seen $SYNC_TAKEOVER ms" \
	"after it; the killed appliance's sessions kept: $SYNC_KEPT of ${#OWN_A[@]}, answering again" \
	"${SYNC_RESUMED:-never} ms (first, last) after it; the peer's own: ${#OWN_B[@]}, unaffected" \
	"(fewest PONGs in the first ${B_AT:-?} ms: $B_MIN)"
live_finish
