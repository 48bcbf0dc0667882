# shellcheck shell=bash disable=SC2034 # variables here are used by the tests that source this file
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the live tests: real Linux TCP stacks on both sides of egressd.
#
#   netns egm<sfx> "mesh"       egm-side veth  10.8.0.2/16, default via 10.8.0.1
#        | veth egim<sfx> -- egi<sfx> (root ns, no IP) = net_af_packet0 "inside"
#   egressd                     inside 10.8.0.1/16, outside 203.0.113.10/24
#        | veth ego<sfx> (root ns, no IP) -- egox<sfx> = net_af_packet1 "outside"
#   netns egx<sfx> "external"   203.0.113.1/24; 10.59.118.59/32 and
#                               10.59.118.60/32 on lo (the Memorystore stand-ins)
#                               redis-server on .59:6379, .60:6379 and .59:6380
#
# <sfx> is the test's PID modulo 10000 (the next free one if taken), so several
# tests can run at once. Only addresses inside these namespaces are used. The
# root-side veth ends carry no address and have IPv6 disabled: the root
# namespace's kernel stays silent on them, egressd alone owns them. Offloads are
# off on every veth end, or the kernel hands net_af_packet partial checksums
# and 64 KiB super-frames.
#
# A test sources this file, calls live_require and live_topology_up, then
# live_write_config / live_start_egressd / checks / live_stop_egressd, and
# ends with live_finish. Cleanup (trap EXIT) ends only the processes these
# helpers started, by PID, and deletes the namespaces and veths.
#
# Exit codes: 0 pass, 1 fail, 77 skip (not root, no netns support, tool missing).
# A passing test ends with "PASS: NAME: N checks" (N > 0, one "PASS: " line per
# check before it): scripts/test.sh counts a test that checked nothing as failed.
# Under CI=true nothing skips: a missing prerequisite is installed
# (scripts/install-deps.sh, which must list it) or the test fails. Every live
# test, those that need no topology too, skips through live_skip /
# live_require_* only.
#
# Environment:
#   CI=true              a skip is a failure (see above)
#   EGRESSD              the binary; default <repo>/build/app/egressd/egressd
#   LIVE_READY_TIMEOUT   seconds to wait for "egressd: ready", default 20
#   LIVE_KEEP=1          keep the temporary folder (configs, logs) after exit
#   LIVE_LCORES          EAL lcore option for egressd, default "-l 0,1"
#   LIVE_POLL_IDLE       poll.idle of the configs live_write_config writes:
#                        busy (default), backoff (idle workers sleep) or
#                        interrupt (they wait for RX interrupts; back off on
#                        net_af_packet, net_af_xdp: they have none)
#   LIVE_PMD             the ports' driver on the veths: af_packet (default:
#                        net_af_packetN,iface=DEV), af_xdp
#                        (net_af_xdpN,iface=DEV,start_queue=0,queue_count=1) or
#                        virtio (net_virtio_userN,path=SOCK,queues=1 against
#                        a net_vhost bridge to the veths: live_vhost_bridge_up)

LIVE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EGRESSD=${EGRESSD:-$LIVE_REPO/build/app/egressd/egressd}
# Processes, DPDK runtime folders, waits, telemetry and the exit: the helpers
# the scripts share (live_* wrap them where the tests call them).
# shellcheck source=scripts/bench-lib.sh
source "$LIVE_REPO/scripts/bench-lib.sh"
LIVE_READY_TIMEOUT=${LIVE_READY_TIMEOUT:-20}

# Addresses of the topology (see above).
LIVE_MESH_ADDR=10.8.0.2
LIVE_INSIDE_ADDR=10.8.0.1
LIVE_INSIDE_PREFIX=16
LIVE_NAT_ADDR=203.0.113.10
LIVE_OUTSIDE_PREFIX=24
LIVE_EXT_ADDR=203.0.113.1
LIVE_REDIS_HOST=10.59.118.59
LIVE_REDIS_OTHER_HOST=10.59.118.60
LIVE_REDIS_PORT=6379
LIVE_REDIS_OTHER_PORT=6380

LIVE_SFX=""
LIVE_MESH_NS=""
LIVE_EXT_NS=""
LIVE_IN_DEV=""   # root-side end of the inside veth: egressd's inside port
LIVE_IN_PEER=""  # its peer, in the mesh namespace
LIVE_OUT_DEV=""  # root-side end of the outside veth: egressd's outside port
LIVE_OUT_PEER="" # its peer, in the external namespace
LIVE_TMP=""

LIVE_FAILS=0
LIVE_CHECKS=0
LIVE_RUN=0
BENCH_PIDS=()          # every process started here and not yet reaped (live_track_pid)
BENCH_PREFIXES=()      # --file-prefix of every DPDK process started here
LIVE_NETNS=()          # namespaces created here
LIVE_LINKS=()          # root-namespace links created here

EGRESSD_PID=""
EGRESSD_OUT=""         # stdout of the last egressd started
EGRESSD_ERR=""         # stderr of the last egressd started
EGRESSD_PREFIX=""      # its --file-prefix
EGRESSD_RC=""          # exit status of the last egressd stopped
EGRESSD_FINAL_JSON=""  # the JSON line it printed on SIGTERM

# --- reporting --------------------------------------------------------------

live_log() {
	echo "# $*"
}

live_pass() {
	LIVE_CHECKS=$((LIVE_CHECKS + 1))
	echo "PASS: $*"
}

live_fail() {
	LIVE_CHECKS=$((LIVE_CHECKS + 1))
	LIVE_FAILS=$((LIVE_FAILS + 1))
	echo "FAIL: $*"
}

# live_check DESCRIPTION COMMAND...: PASS or FAIL by the command's status.
live_check() {
	local what=$1
	shift
	if "$@"; then
		live_pass "$what"
	else
		live_fail "$what"
	fi
}

# True under CI=true: every test must run, a skip is a failure.
live_ci() {
	[[ "${CI:-}" == true ]]
}

# live_skip MSG: this machine cannot run the test: exit 77, or under CI=true
# fail (exit 1) instead, so that CI never passes a test it did not run.
live_skip() {
	if live_ci; then
		echo "FAIL: $(basename "$0" .sh): cannot run, and CI=true allows no skip: $*"
		exit 1
	fi
	echo "SKIP: $(basename "$0" .sh): $*"
	exit 77
}

# Abort the test: a step without which nothing else can be checked failed.
live_die() {
	live_fail "$*"
	live_finish
}

# Print the test's verdict and exit with it (the EXIT trap then cleans up).
live_finish() {
	local name
	name=$(basename "$0" .sh)
	if ((LIVE_FAILS > 0)); then
		live_dump_logs
		echo "FAIL: $name: $LIVE_FAILS of $LIVE_CHECKS checks failed"
		exit 1
	fi
	if ((LIVE_CHECKS == 0)); then
		echo "FAIL: $name: no check ran"
		exit 1
	fi
	echo "PASS: $name: $LIVE_CHECKS checks"
	exit 0
}

# Show the end of every log of this test (called on failure).
live_dump_logs() {
	local f
	[[ -n "$LIVE_TMP" && -d "$LIVE_TMP" ]] || return 0
	for f in "$LIVE_TMP"/*.out "$LIVE_TMP"/*.err "$LIVE_TMP"/*.log; do
		[[ -s "$f" ]] || continue
		echo "----- ${f##*/} (last 40 lines)"
		tail -n 40 "$f"
	done
	echo "-----"
}

# --- prerequisites ----------------------------------------------------------

LIVE_DEPS_RC=""  # status of scripts/install-deps.sh once run here

# live_install_deps: under CI=true, as root, run scripts/install-deps.sh (once
# per test; it returns at once when every package is there). 1 otherwise.
live_install_deps() {
	live_ci && ((EUID == 0)) || return 1
	if [[ -z "$LIVE_DEPS_RC" ]]; then
		LIVE_DEPS_RC=0
		bash "$LIVE_REPO/scripts/install-deps.sh" >&2 || LIVE_DEPS_RC=$?
	fi
	return "$LIVE_DEPS_RC"
}

# live_require_that WHAT COMMAND...: COMMAND succeeds, or, under CI=true,
# scripts/install-deps.sh installs what is missing and COMMAND succeeds then;
# else skip (a failure under CI=true) saying WHAT is missing.
live_require_that() {
	local what=$1
	shift
	"$@" && return 0
	live_install_deps && "$@" && return 0
	live_skip "$what not installed (scripts/install-deps.sh)"
}

live_have_tool() {
	command -v "$1" >/dev/null 2>&1
}

# live_require_tool TOOL...: every TOOL on PATH (live_require_that).
live_require_tool() {
	local t
	for t in "$@"; do
		live_require_that "$t" live_have_tool "$t"
	done
}

# live_require_net_pcap: DPDK's net_pcap PMD (live_require_that).
live_require_net_pcap() {
	live_require_that "DPDK's net_pcap PMD (librte-net-pcap23)" bench_have_net_pcap
}

# live_require_root WHY: root, needed for WHY.
live_require_root() {
	((EUID == 0)) || live_skip "needs root ($1)"
}

# live_require_built FILE...: built by the suite; missing is a failure, never
# a skip (the build is part of the test).
live_require_built() {
	local f
	for f in "$@"; do
		if [[ ! -x "$f" ]]; then
			echo "FAIL: $(basename "$0" .sh): $f not found: build first (scripts/build.sh)"
			exit 1
		fi
	done
}

# live_require [TOOL...]: what every topology test needs, and TOOLs.
live_require() {
	live_require_root "network namespaces, veths, raw sockets"
	live_require_tool ip ethtool sysctl timeout redis-server redis-cli python3 "$@"
	[[ "${LIVE_PMD:-}" != virtio ]] || live_require_tool dpdk-testpmd
	live_require_built "$EGRESSD"
}

# --- process bookkeeping ----------------------------------------------------

# The processes started here, tracked and stopped with scripts/bench-lib.sh.
live_track_pid() {
	bench_track_pid "$1"
}

# live_stop_pid PID [SIGNAL] [SECONDS]: signal one of our processes, wait for
# it (SIGKILL after SECONDS), reap it and stop tracking it (the PID may be
# reused). Sets LIVE_STOP_RC to its exit status; returns 1 if SIGKILL was
# needed.
live_stop_pid() {
	bench_stop_pid "$1" "${2:-TERM}" "${3:-5}"
	LIVE_STOP_RC=$BENCH_STOP_RC
	return "$BENCH_STOP_FORCED"
}

# The EXIT trap: our processes (SIGTERM, SIGKILL after 5 s) and their DPDK
# runtime folders, then the namespaces and links, then the folder.
live_cleanup() {
	local rc=$? ns dev
	trap - EXIT INT TERM
	set +e
	bench_teardown "$(basename "$0" .sh)" TERM 5
	for ns in "${LIVE_NETNS[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	for dev in "${LIVE_LINKS[@]}"; do
		if ip link show dev "$dev" >/dev/null 2>&1; then
			ip link delete dev "$dev" 2>/dev/null
		fi
	done
	bench_tmp_remove "$LIVE_TMP" "${LIVE_KEEP:-0}" || echo "# kept $LIVE_TMP"
	exit "$rc"
}

# --- topology ---------------------------------------------------------------

mesh_exec() {
	ip netns exec "$LIVE_MESH_NS" "$@"
}

ext_exec() {
	ip netns exec "$LIVE_EXT_NS" "$@"
}

# The first suffix from PID mod 10000 whose namespaces and links are all free.
live_pick_suffix() {
	local sfx=$(($$ % 10000)) i
	for ((i = 0; i < 10000; i++)); do
		if [[ ! -e "/run/netns/egm$sfx" && ! -e "/run/netns/egx$sfx" ]] &&
			! ip link show dev "egi$sfx" >/dev/null 2>&1 &&
			! ip link show dev "ego$sfx" >/dev/null 2>&1; then
			LIVE_SFX=$sfx
			return 0
		fi
		sfx=$(((sfx + 1) % 10000))
	done
	return 1
}

# live_offloads_off DEV [NETNS]: no checksum offload, no segmentation or
# receive coalescing, so every frame on the wire is complete and <= MTU.
live_offloads_off() {
	local dev=$1 ns=${2:-}
	local pre=()
	[[ -n "$ns" ]] && pre=(ip netns exec "$ns")
	"${pre[@]}" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || {
		echo "ethtool -K $dev tx off rx off tso off gso off gro off failed" >&2
		return 1
	}
	# Scatter-gather only where the driver lets it be changed.
	"${pre[@]}" ethtool -K "$dev" sg off >/dev/null 2>&1 || true
}

live_ipv6_off() {
	local dev=$1
	if [[ -e "/proc/sys/net/ipv6/conf/$dev/disable_ipv6" ]]; then
		sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=1"
	fi
}

# live_netns_add NAME: a namespace with lo up and IPv6 off (no router
# solicitations or MLD reports to muddy egressd's counters).
live_netns_add() {
	local ns=$1
	ip netns add "$ns" || return 1
	LIVE_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	if [[ -d /proc/sys/net/ipv6 ]]; then
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	fi
}

# live_veth ROOTDEV PEER NETNS: a veth pair, PEER moved into NETNS.
live_veth() {
	local dev=$1 peer=$2 ns=$3
	ip link add "$dev" type veth peer name "$peer" netns "$ns" || return 1
	LIVE_LINKS+=("$dev")
	live_ipv6_off "$dev"
	live_offloads_off "$dev" || return 1
	live_offloads_off "$peer" "$ns" || return 1
	ip link set dev "$dev" up
	ip -n "$ns" link set dev "$peer" up
}

# Build the namespaces and veths, start the redis-servers. Installs the
# cleanup trap. Skips (77) if network namespaces cannot be created here.
live_topology_up() {
	bench_traps live_cleanup

	LIVE_TMP=$(mktemp -d /tmp/egressd-live.XXXXXX)
	live_pick_suffix || live_skip "no free namespace suffix"
	LIVE_MESH_NS=egm$LIVE_SFX
	LIVE_EXT_NS=egx$LIVE_SFX
	LIVE_IN_DEV=egi$LIVE_SFX
	LIVE_IN_PEER=egim$LIVE_SFX
	LIVE_OUT_DEV=ego$LIVE_SFX
	LIVE_OUT_PEER=egox$LIVE_SFX
	live_log "topology $LIVE_SFX: mesh ns $LIVE_MESH_NS, external ns $LIVE_EXT_NS," \
		"inside $LIVE_IN_DEV, outside $LIVE_OUT_DEV, files in $LIVE_TMP"

	if ! live_netns_add "$LIVE_MESH_NS"; then
		live_skip "cannot create network namespaces here (ip netns add)"
	fi
	live_netns_add "$LIVE_EXT_NS" || live_die "ip netns add $LIVE_EXT_NS"

	live_veth "$LIVE_IN_DEV" "$LIVE_IN_PEER" "$LIVE_MESH_NS" ||
		live_die "veth $LIVE_IN_DEV/$LIVE_IN_PEER"
	live_veth "$LIVE_OUT_DEV" "$LIVE_OUT_PEER" "$LIVE_EXT_NS" ||
		live_die "veth $LIVE_OUT_DEV/$LIVE_OUT_PEER"

	ip -n "$LIVE_MESH_NS" addr add "$LIVE_MESH_ADDR/$LIVE_INSIDE_PREFIX" dev "$LIVE_IN_PEER"
	ip -n "$LIVE_MESH_NS" route add default via "$LIVE_INSIDE_ADDR"

	ip -n "$LIVE_EXT_NS" addr add "$LIVE_EXT_ADDR/$LIVE_OUTSIDE_PREFIX" dev "$LIVE_OUT_PEER"
	ip -n "$LIVE_EXT_NS" addr add "$LIVE_REDIS_HOST/32" dev lo
	ip -n "$LIVE_EXT_NS" addr add "$LIVE_REDIS_OTHER_HOST/32" dev lo
	# No default route in the external namespace: only the NAT address
	# (on-link) can be answered, so a packet that leaves egressd un-NATed
	# gets no reply.

	live_start_redis "$LIVE_REDIS_PORT" "$LIVE_REDIS_HOST" "$LIVE_REDIS_OTHER_HOST" ||
		live_die "redis-server on port $LIVE_REDIS_PORT"
	live_start_redis "$LIVE_REDIS_OTHER_PORT" "$LIVE_REDIS_HOST" ||
		live_die "redis-server on port $LIVE_REDIS_OTHER_PORT"
	if [[ "${LIVE_PMD:-}" == virtio ]]; then
		live_vhost_bridge_up || live_die "the vhost bridge (dpdk-testpmd)"
	fi
}

# live_start_redis PORT ADDR...: a redis-server in the external namespace,
# bound to ADDR..., waited for until it answers PING on each address.
live_start_redis() {
	local port=$1
	shift
	local log="$LIVE_TMP/redis-$port.log" addr i
	# A simple command in the background: $! is redis-server itself
	# (ip netns exec execs it).
	ip netns exec "$LIVE_EXT_NS" redis-server --port "$port" --bind "$@" \
		--protected-mode no --save '' --appendonly no --daemonize no \
		--dir "$LIVE_TMP" >"$log" 2>&1 &
	live_track_pid "$!"
	for addr in "$@"; do
		for ((i = 0; i < 100; i++)); do
			if [[ "$(ext_exec timeout 2 redis-cli -h "$addr" -p "$port" PING 2>/dev/null)" == PONG ]]; then
				break
			fi
			sleep 0.1
		done
		((i < 100)) || return 1
	done
	live_log "redis-server on ${*/%/:$port} (pid $!)"
}

# --- egressd ----------------------------------------------------------------

# live_vhost_bridge_up: a dpdk-testpmd (--no-huge, its own --file-prefix,
# --no-pci) holding the vhost-user sockets $LIVE_TMP/vhost0.sock and
# vhost1.sock (net_vhost servers, egressd's virtio-user ports connect to them)
# and net_af_packet ports on the inside and outside veths, forwarding
# vhost0 <-> inside veth and vhost1 <-> outside veth. Forward mode csum: it
# completes checksums a virtio guest left to the host (VIRTIO_NET_HDR_F_NEEDS_CSUM,
# TX checksum offload), as a hypervisor's vhost does; net_af_packet cannot.
# That engine also rewrites the MACs (destination: the port's --eth-peer,
# source: the port's own), so each port's peer is the MAC behind it: egressd's
# (the virtio-user mac= of live_device) or the namespace's veth.
# Sets LIVE_TESTPMD_PID, LIVE_TESTPMD_LOG.
live_vhost_bridge_up() {
	local prefix="egv${LIVE_SFX}" i mesh_mac ext_mac
	LIVE_TESTPMD_LOG="$LIVE_TMP/testpmd.log"
	mesh_mac=$(ip -n "$LIVE_MESH_NS" -o link show "$LIVE_IN_PEER" | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
	ext_mac=$(ip -n "$LIVE_EXT_NS" -o link show "$LIVE_OUT_PEER" | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
	bench_track_prefix "$prefix"
	# --stats-period: run until signalled (not "press enter", which an
	# stdin at EOF would answer at once)
	dpdk-testpmd --no-huge -m 512 --no-pci -l 0,1 --file-prefix "$prefix" \
		--vdev "net_vhost0,iface=$LIVE_TMP/vhost0.sock,queues=1" \
		--vdev "net_af_packet0,iface=$LIVE_IN_DEV" \
		--vdev "net_vhost1,iface=$LIVE_TMP/vhost1.sock,queues=1" \
		--vdev "net_af_packet1,iface=$LIVE_OUT_DEV" \
		-- --forward-mode=csum --auto-start --stats-period 3600 \
		--eth-peer="0,02:00:00:00:e0:00" --eth-peer="1,$mesh_mac" \
		--eth-peer="2,02:00:00:00:e0:01" --eth-peer="3,$ext_mac" \
		--total-num-mbufs=16384 </dev/null >"$LIVE_TESTPMD_LOG" 2>&1 &
	LIVE_TESTPMD_PID=$!
	live_track_pid "$LIVE_TESTPMD_PID"
	# up to 60 s: on a loaded 2-core machine its set-up alone took over 10
	for ((i = 0; i < 600; i++)); do
		[[ -S "$LIVE_TMP/vhost0.sock" && -S "$LIVE_TMP/vhost1.sock" ]] &&
			grep -q 'packet forwarding - ports=' "$LIVE_TESTPMD_LOG" && break
		kill -0 "$LIVE_TESTPMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'packet forwarding - ports=' "$LIVE_TESTPMD_LOG"; then
		sed 's/^/  | /' "$LIVE_TESTPMD_LOG" >&2
		return 1
	fi
	live_log "vhost bridge: dpdk-testpmd (pid $LIVE_TESTPMD_PID) on $LIVE_TMP/vhost{0,1}.sock"
}

# live_device N DEV: the device string of egressd's port N on the veth DEV,
# for LIVE_PMD.
live_device() {
	local n=$1 dev=$2
	case "${LIVE_PMD:-af_packet}" in
	af_packet) echo "net_af_packet$n,iface=$dev" ;;
	af_xdp) echo "net_af_xdp$n,iface=$dev,start_queue=0,queue_count=1" ;;
	virtio) echo "net_virtio_user$n,path=$LIVE_TMP/vhost$n.sock,queues=1,mac=02:00:00:00:e0:0$n" ;;
	*) live_die "LIVE_PMD=$LIVE_PMD: want af_packet, af_xdp or virtio" ;;
	esac
}

# live_write_config DIR [POLICY_DIR]: an appliance config DIR/egressd.yaml on
# this topology, its API socket DIR/egressd.sock (tests never share one), its
# policy folder DIR/policy/ holding a copy of POLICY_DIR's
# *.yaml / *.yml files (empty without POLICY_DIR). Prints the config's path.
live_write_config() {
	local dir=$1 src=${2:-} f
	mkdir -p "$dir/policy"
	if [[ -n "$src" ]]; then
		for f in "$src"/*.yaml "$src"/*.yml; do
			[[ -f "$f" ]] && cp "$f" "$dir/policy/"
		done
	fi
	cat >"$dir/egressd.yaml" <<-EOF
	# egressd live test $LIVE_SFX (tests/live/lib.sh)
	ports:
	  inside:  { device: "$(live_device 0 "$LIVE_IN_DEV")",
	             address: $LIVE_INSIDE_ADDR/$LIVE_INSIDE_PREFIX }
	  outside: { device: "$(live_device 1 "$LIVE_OUT_DEV")",
	             address: $LIVE_NAT_ADDR/$LIVE_OUTSIDE_PREFIX, gateway: $LIVE_EXT_ADDR }
	policy:
	  outbound: REGISTRY_ONLY
	  deny: drop
	  sources: [policy/]
	workers: 1
	poll: { idle: ${LIVE_POLL_IDLE:-busy} }
	api: { socket: $dir/egressd.sock }
	EOF
	echo "$dir/egressd.yaml"
}

# live_start_egressd CONFIG: start egressd in the background, wait (bounded)
# for its "egressd: ready" line. Returns 1, logs shown, if it exits or is
# not ready in time.
live_start_egressd() {
	local conf=$1
	LIVE_RUN=$((LIVE_RUN + 1))
	EGRESSD_PREFIX="egl${LIVE_SFX}r$LIVE_RUN"
	EGRESSD_OUT="$LIVE_TMP/egressd-$LIVE_RUN.out"
	EGRESSD_ERR="$LIVE_TMP/egressd-$LIVE_RUN.err"
	EGRESSD_FINAL_JSON=""
	EGRESSD_RC=""
	bench_track_prefix "$EGRESSD_PREFIX"
	live_log "starting egressd (run $LIVE_RUN, --file-prefix $EGRESSD_PREFIX) -c $conf"
	# shellcheck disable=SC2086 # LIVE_LCORES is one or more EAL words
	"$EGRESSD" --no-huge -m 512 --no-pci ${LIVE_LCORES:--l 0,1} --file-prefix "$EGRESSD_PREFIX" \
		--log-level='egressd.*:info' -- -c "$conf" >"$EGRESSD_OUT" 2>"$EGRESSD_ERR" &
	EGRESSD_PID=$!
	live_track_pid "$EGRESSD_PID"
	if bench_wait_for "$EGRESSD_OUT" '^egressd: ready' "$EGRESSD_PID" "$LIVE_READY_TIMEOUT"; then
		live_log "$(grep -m 1 '^egressd: ready' "$EGRESSD_OUT") (pid $EGRESSD_PID)"
		return 0
	fi
	if ! kill -0 "$EGRESSD_PID" 2>/dev/null; then
		live_stop_pid "$EGRESSD_PID" || true
		EGRESSD_RC=$LIVE_STOP_RC
		echo "egressd exited with status $EGRESSD_RC before it was ready" >&2
	else
		echo "egressd not ready after ${LIVE_READY_TIMEOUT}s" >&2
	fi
	live_dump_logs >&2
	return 1
}

# live_stop_egressd: SIGTERM, wait (bounded), reap. Sets EGRESSD_RC and
# EGRESSD_FINAL_JSON (the last stdout line that starts with "{"). Returns 1 if
# it had to be killed or did not exit 0.
live_stop_egressd() {
	local forced=0
	[[ -n "$EGRESSD_PID" ]] || return 1
	live_stop_pid "$EGRESSD_PID" TERM 15 || forced=1
	EGRESSD_RC=$LIVE_STOP_RC
	EGRESSD_PID=""
	rm -rf "/var/run/dpdk/$EGRESSD_PREFIX"
	EGRESSD_FINAL_JSON=$(grep '^[[:space:]]*{' "$EGRESSD_OUT" | tail -n 1 || true)
	if ((forced)); then
		echo "egressd did not stop within 15 s of SIGTERM: killed" >&2
		return 1
	fi
	if [[ "$EGRESSD_RC" != 0 ]]; then
		echo "egressd exited with status $EGRESSD_RC after SIGTERM" >&2
		return 1
	fi
}

# live_json_valid JSON: it parses as one JSON object.
live_json_valid() {
	python3 -c 'import json, sys; o = json.loads(sys.argv[1]); sys.exit(0 if isinstance(o, dict) else 1)' \
		"$1" 2>/dev/null
}

# live_json_counter JSON KEY: print the largest number found under KEY anywhere
# in the JSON (e.g. a drop reason inside "drops"); nothing if absent.
live_json_counter() {
	python3 - "$1" "$2" <<-'PY'
	import json
	import sys

	found = []

	def walk(o):
	    if isinstance(o, dict):
	        for k, v in o.items():
	            if k == sys.argv[2] and isinstance(v, (int, float)) and not isinstance(v, bool):
	                found.append(v)
	            walk(v)
	    elif isinstance(o, list):
	        for v in o:
	            walk(v)

	try:
	    walk(json.loads(sys.argv[1]))
	except ValueError:
	    sys.exit(1)
	if found:
	    print(max(found))
	PY
}

# live_telemetry CMD: ask the running egressd's DPDK telemetry socket (v2) and
# print the JSON answer, e.g. live_telemetry /egress/stats.
live_telemetry() {
	bench_telemetry_cmd "$EGRESSD_PREFIX"
	"${BENCH_TELEMETRY_CMD[@]}" "$1" <<-'PY'
	import sys

	import egress_telemetry

	s = egress_telemetry.connect(sys.argv[1], 0)
	try:
	    if s is None:
	        raise OSError("cannot connect")
	    print(egress_telemetry.ask_text(s, sys.argv[2]))
	except OSError as e:
	    print(f"telemetry socket {sys.argv[1]}: {e}")
	    sys.exit(1)
	PY
}

# live_telemetry_hammer FILE: in the background, ask the running egressd's
# telemetry socket for /egress/stats and /egress/flows back to back, over
# fresh connections, until the socket goes away; FILE gets the number of
# answers. Sets HAMMER_PID (tracked).
live_telemetry_hammer() {
	bench_telemetry_cmd "$EGRESSD_PREFIX"
	"${BENCH_TELEMETRY_CMD[@]}" "$1" <<-'PY' &
	import sys

	import egress_telemetry

	n = 0
	try:
	    while True:
	        s = egress_telemetry.connect(sys.argv[1], 0)
	        if s is None:
	            break
	        for cmd in ("/egress/stats", "/egress/flows") * 8:
	            egress_telemetry.ask_text(s, cmd)
	            n += 1
	        s.close()
	except OSError:
	    pass
	with open(sys.argv[2], "w") as f:
	    f.write(f"{n}\n")
	PY
	HAMMER_PID=$!
	live_track_pid "$HAMMER_PID"
}

# --- clients ----------------------------------------------------------------

# redis_ping HOST PORT: PING from the mesh namespace; prints the answer,
# returns 0 on PONG.
redis_ping() {
	local out
	out=$(mesh_exec timeout 5 redis-cli -h "$1" -p "$2" PING 2>&1) || true
	echo "$out"
	[[ "$out" == PONG ]]
}

# expect_timeout HOST PORT: a TCP connect from the mesh namespace must time out
# (SYN dropped), neither connect nor be refused / unreachable. Prints what
# happened.
expect_timeout() {
	local rc=0 msg
	msg=$(mesh_exec timeout 4 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>&1) || rc=$?
	case "$rc" in
	124)
		echo "connect to $1:$2 timed out"
		return 0
		;;
	0)
		echo "connect to $1:$2 succeeded"
		return 1
		;;
	*)
		echo "connect to $1:$2 failed at once (not a time-out): ${msg:-exit $rc}"
		return 1
		;;
	esac
}

# server_client_addrs [HOST] [PORT]: the peer address (addr=IP:PORT) of every
# connection the redis-server at HOST:PORT holds, one a line, asked from the
# external namespace (this asking connection included).
server_client_addrs() {
	local host=${1:-$LIVE_REDIS_HOST} port=${2:-$LIVE_REDIS_PORT}
	ext_exec timeout 5 redis-cli -h "$host" -p "$port" CLIENT LIST |
		sed -n -E 's/^(.* )?addr=([^ ]+).*$/\2/p'
}
