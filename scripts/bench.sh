#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The pcap-replay benchmark (doc/performance.md). For each row,
# egress-gen writes the captures; then, on the same lcores (-l 0,1), the same
# memory (2 MiB hugepages reserved here, or --no-huge) and the same net_pcap
# vdevs (infinite_rx=1 sources; no tx_* argument, so net_pcap counts and frees
# every transmitted frame: nothing is written anywhere), run in turn
#   dpdk-testpmd --forward-mode=io       the ceiling of the vdevs themselves,
#   dpdk-testpmd --forward-mode=5tswap   a forwarder that touches every header,
#   dpdk-testpmd --forward-mode=csum     a forwarder that parses every frame and
#                                        computes its IPv4 and TCP checksums in
#                                        software (net_pcap offers no checksum
#                                        offload: testpmd's default, "csum set
#                                        ip|tcp sw", is all it can do; egressd
#                                        verifies them in software likewise),
#   egressd                              the appliance,
# several times each (interleaved), and print one table of medians.
#
# Rows:
#   established 1k   1000 flows SYN-first: inside SYN + 2 data segments per
#                    flow, outside SYN-ACK + 2 answers (the handshake is seen,
#                    then data both ways); both captures replayed in a loop;
#   established 1M   the same with 1 000 000 flows to 10.59.118.0/24, 1 data
#                    segment each way (4 M frames, about 10 GB of mbufs);
#   new-flow storm   100 000 SYNs of distinct 5-tuples in a loop, with
#                    flows.embryonic_max 65536: by the time a 5-tuple comes
#                    round again its flow was evicted as the oldest embryonic
#                    one, so every SYN creates a flow (and evicts one), the
#                    steady state of a SYN flood (flows/s is measured);
#   all denied       6000 SYNs to 10.59.118.59:6380, which no ServiceEntry lists;
#   virtio           the established-1k captures through a vhost-user pair
#                    (below): every program on net_virtio_user ports;
#   read-once storm  ("once") 1 000 000 SYNs of distinct 5-tuples (4096
#                    clients, ports 1024-1268) to 10.59.118.59:6379, read
#                    once from the capture, not looped (net_pcap without
#                    infinite_rx); flows.max = embryonic_max = 1048576 and 64
#                    NAT addresses (port_alloc: random): nothing is evicted,
#                    every SYN creates a flow in a table that fills up.
# 64 B frames (60 B + FCS), 64 mesh clients (static neighbours), one NAT
# address with port_alloc: preserve. A replayed loop repeats sequence numbers,
# so the benchmark runs with TCP window checks relaxed (flows.tcp_liberal:
# true, as Linux's nf_conntrack_tcp_be_liberal); embryonic_max is flows.max
# in the established rows (a SYN pass of 1 M flows precedes their ACKs).
#
# The virtio row: a generator, dpdk-testpmd --forward-mode=io, holds the
# net_vhost servers (vhost0.sock, vhost1.sock in the row's folder;
# legacy-ol-flags=1: what the DUT leaves to the host's checksum offload is
# marked, not computed, so the generator costs the same behind every DUT) and
# forwards net_pcap0 (in.pcap, infinite_rx) <-> net_vhost0 and net_pcap1
# (out.pcap) <-> net_vhost1: the loops go to the DUT, what the DUT sends back
# is counted and freed by net_pcap. The DUT, started after it, has the two
# net_virtio_user ports (path=SOCK, queues=1, mac= net_pcap's MACs, so the
# captures are addressed to it): testpmd io, 5tswap, csum (--tx-offloads=0xc:
# TCP/UDP checksums offloaded, the IPv4 one in software, as egressd on
# virtio), then egressd. Placement, the same for every DUT: the generator
# -l 0,1 --main-lcore 1 (it forwards on lcore 0), the DUT -l 0,1 (it forwards
# on lcore 1, its main or control thread on lcore 0): each busy poller has a
# core, each shares it with the other's mostly sleeping main thread. With
# hugepages the DUT runs --single-file-segments (vhost-user maps at most 8
# memory regions), so without --huge-unlink: its files are removed here.
# egressd's log must say "tx tcp/udp checksum on" for both ports (virtio
# offers the L4 checksums, not the IPv4 one; app/egressd/port.c): said under
# the table, with what the generator offered.
#
# Measured:
#   testpmd   the median of its per-second Rx-pps (both ports summed) after
#             the warm-up (--stats-period 1);
#   egressd   (inside.rx + outside.rx) deltas of /egress/stats on the
#             telemetry socket over the measured interval; from its final
#             JSON (whole run, TSC): cycles/pkt its cycles_per_packet (in
#             dp_process() per frame) and loop cycles/pkt its
#             cycles_per_packet_loop (the worker's wall time per frame: RX,
#             TX, idle polls and the sweep too); flows/s from flows_created
#             deltas; bytes/flow its bytes_per_flow;
#   once      no steady state: a poller (python, the telemetry socket, a
#             sample every 2 ms, started before the program: /ethdev/stats,0
#             ipackets, and egressd's /egress/stats flows_created) finds
#             when the count passes 5 % and 95 % of the SYNs (linear between
#             samples): rate = 90 % of them over that time, Mpps from
#             ipackets, flows/s from flows_created (from ipackets if
#             /egress/stats first answered after 5 %); testpmd io, 5tswap,
#             csum read the same file once likewise; egressd's final JSON
#             must show every SYN a flow, nothing evicted nor dropped;
#   pipeline  after the runs, per row but virtio and est1m, a note: the
#             pipeline alone (app/bench/bench-pipeline: the worker built as
#             egressd builds it, the row's captures through dp_process() in
#             bursts of 32, each timed; no PMD, RX, TX nor sweep): median,
#             p10, p90, min cycles per frame, and for the read-once storm
#             new flows/s at the median; steady where the rows above are not;
#   ratio     the headline: egressd / testpmd 5tswap for forwarding rows,
#             / testpmd io for the all-denied row (nothing is forwarded
#             there); then egressd / each of io, 5tswap and csum, every row.
#
# Usage: scripts/bench.sh [--quick] [--runs N] [--seconds S] [--warmup S]
#                         [--build-dir DIR] [--no-build] [--no-huge] [--huge-mb MB]
#                         [--rows LIST] [--out FILE] [--keep] [--observe]
#                         [--poll-idle MODE]
#   --quick       smoke run: small captures, 2 s per measurement, 1 run, the
#                 1M row shrunk to 2000 flows, the read-once storm to
#                 100 000 SYNs (flows.max 131072); falls back to --no-huge when
#                 hugepages cannot be reserved (the figures then halve)
#   --runs N      runs per row and program (3); --seconds S measured (5);
#   --warmup S    before measuring (2); given with --quick, these three
#                 override its values
#   --build-dir   (build) built with scripts/build.sh first
#   --no-build    use the binaries already in --build-dir as they are
#   --no-huge     --no-huge -m 2048 (1024 with --quick) for every process
#   --huge-mb MB  2 MiB hugepages to have free (default: what the biggest row
#                 needs, at least 3072, 512 with --quick; if the kernel
#                 gives less, rows that do not fit run testpmd on 256 B
#                 mbufs and skip egressd, said under the table)
#   --rows LIST   comma-separated subset of est1k,est1m,storm,denied,virtio,once
#   --out FILE    also write the medians and every sample as TSV
#   --keep        keep the temporary folder (captures, configs, logs)
#   --observe     each run also runs egressd with the operator's outputs on,
#                 right after the plain one (same row, same captures): /metrics
#                 served and scraped once a second during the measurement,
#                 and flow logs written (flowlog, denied_per_second 100); its
#                 figures are a second line per row, "+ metrics, flowlog"
#                 (in the read-once storm /metrics is served, not scraped:
#                 the pass lasts less than a second)
#   --poll-idle MODE  egressd's poll.idle, busy (the default) or backoff
#                 (doc/operations.md, Idle workers)
# Hugepages: the count in /sys/kernel/mm/hugepages/hugepages-2048kB is only
# ever raised, by what is missing, and lowered by as many on exit (relative,
# so that other DPDK users reserving pages meanwhile keep theirs); they are
# mounted on a private hugetlbfs folder (--huge-dir, --huge-unlink), so
# /dev/hugepages and other DPDK users are not touched. Only processes started
# here are stopped, by PID.
# Exit: 0, 1 on failure, 77 when it cannot run here (not root, no testpmd or
# net_pcap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
RUNS=""
SECONDS_MEASURED=""
WARMUP=""
BUILD_DIR=build
NO_BUILD=0
NO_HUGE=0
HUGE_MB=""
HUGE_MB_GIVEN=0
ROWS="est1k,est1m,storm,denied,virtio,once"
OUT=""
KEEP=0
OBSERVE=""
POLL_IDLE=busy

LCORES=0,1
# the virtio row's generator: its forwarding lcore 0, its main lcore 1 (the
# DUT forwards on lcore 1, header)
GEN_LCORES=0,1
GEN_MAIN=1
# net_pcap's MACs of the first two vdevs: the virtio-user ports take them, so
# that the same captures address them
VIRTIO_MACS=(02:70:63:61:70:00 02:70:63:61:70:01)
# testpmd's forwarding engines measured as ceilings, in this order in each run
CEILINGS=(io 5tswap csum)
MEM_ARGS=()
MEM_DESC=""
MEM_LIMIT_MB=0       # what a run may use: hugepages reserved, or -m
TMP=""
RUN_SEQ=0
NOTES=()

# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
log() { bench_log bench "$@"; }
die() { bench_die bench "$@"; }
usage() { bench_usage "$ROOT/scripts/bench.sh"; }

# the EXIT trap (bench-lib.sh; it removes the runtime folder of every prefix)
cleanup() {
	bench_cleanup bench "$TMP" "$KEEP"
}

# --- set-up -----------------------------------------------------------------

parse_args() {
	while (($# > 0)); do
		case "$1" in
		--quick) QUICK=1 ;;
		--runs) RUNS=$2; shift ;;
		--seconds) SECONDS_MEASURED=$2; shift ;;
		--warmup) WARMUP=$2; shift ;;
		--build-dir) BUILD_DIR=$2; shift ;;
		--no-build) NO_BUILD=1 ;;
		--no-huge) NO_HUGE=1 ;;
		--huge-mb) HUGE_MB=$2; HUGE_MB_GIVEN=1; shift ;;
		--rows) ROWS=$2; shift ;;
		--out) OUT=$2; shift ;;
		--keep) KEEP=1 ;;
		--observe) OBSERVE=1 ;;
		--poll-idle) POLL_IDLE=$2; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	# --quick's values, or the defaults, where not given
	if ((QUICK)); then
		: "${RUNS:=1}" "${SECONDS_MEASURED:=2}" "${WARMUP:=1}"
	else
		: "${RUNS:=3}" "${SECONDS_MEASURED:=5}" "${WARMUP:=2}"
	fi
	[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECONDS_MEASURED" =~ ^[1-9][0-9]*$ &&
		"$WARMUP" =~ ^[0-9]+$ ]] || die "--runs, --seconds, --warmup: whole numbers"
}

# row_mem_mb ROW: MiB of hugepages a run of the row needs: its loops in
# 2176 B mbufs (2432 B each with header and mempool overhead) plus egressd's
# flow table (bytes_per_flow ~352) and some room.
row_mem_mb() {
	local in out max
	read -r in out <"$TMP/$1/npkts"
	max=$(row_flows_max "$1")
	# read once: no loop held in mbufs
	[[ "$1" == once ]] && in=0 out=0
	echo $(((in + out + 49152) * 2432 / 1048576 + max * 384 / 1048576 + 256))
}

size_hugepages() {
	local row need=$((QUICK ? 512 : 3072))
	if [[ -n "$HUGE_MB" ]]; then
		return 0
	fi
	for row in "${ROW_LIST[@]}"; do
		(($(row_mem_mb "$row") > need)) && need=$(row_mem_mb "$row")
	done
	HUGE_MB=$need
}

# row_fits ROW: can the row run with 2176 B mbufs in the memory we have?
row_fits() {
	(($(row_mem_mb "$1") <= MEM_LIMIT_MB))
}

build() {
	bench_build bench "$BUILD_DIR" "$NO_BUILD" "$TMP/build.log"
	EGRESSD=$BENCH_BUILD_DIR/app/egressd/egressd
	GEN=$BENCH_BUILD_DIR/app/gen/egress-gen
	[[ -x "$EGRESSD" && -x "$GEN" ]] || die "$EGRESSD or $GEN not built (app/meson.build: subdir('gen')?)"
}

# Have HUGE_MB of free 2 MiB pages: raise the count if needed (never lower
# it; what is added is taken back on exit), mount a private hugetlbfs.
# Returns 1 if the kernel gives too few.
reserve_hugepages() {
	bench_hugepages_raise bench $((HUGE_MB / 2)) || return 1
	bench_hugetlbfs_mount /tmp/egressd-bench-huge.XXXXXX || return 1
	MEM_ARGS=(--huge-dir "$BENCH_HUGE_DIR" --huge-unlink)
	MEM_DESC="2 MiB hugepages"
	MEM_LIMIT_MB=$HUGE_MB
}

setup_memory() {
	local base=$((QUICK ? 512 : 3072))
	if ((!NO_HUGE)) && reserve_hugepages; then
		return 0
	fi
	if ((!NO_HUGE && !HUGE_MB_GIVEN && HUGE_MB > base)); then
		log "hugepages: ${HUGE_MB} MiB not available; trying ${base} MiB"
		HUGE_MB=$base
		if reserve_hugepages; then
			return 0
		fi
	fi
	if ((!NO_HUGE && !QUICK)); then
		die "cannot reserve ${HUGE_MB} MiB of 2 MiB hugepages (see /proc/meminfo);" \
			"--no-huge runs anyway at about half the speed"
	fi
	((NO_HUGE)) || NOTES+=("hugepages could not be reserved: --no-huge (figures halve)")
	MEM_LIMIT_MB=$((QUICK ? 1024 : 2048))
	MEM_ARGS=(--no-huge -m "$MEM_LIMIT_MB")
	MEM_DESC="--no-huge"
}

# --- rows -------------------------------------------------------------------

# Per row: a label, egress-gen arguments (write_config: egressd's config).
row_label() {
	case "$1" in
	est1k) echo "established 1k" ;;
	est1m) echo "established 1M" ;;
	storm) echo "new-flow storm" ;;
	denied) echo "all denied" ;;
	virtio) echo "established 1k virtio" ;;
	once) echo "read-once storm" ;;
	esac
}

# row_flows_max ROW: flows.max (the read-once storm: room for all its SYNs)
row_flows_max() {
	if [[ "$1" == once ]]; then
		echo $((QUICK ? 131072 : 1048576))
	else
		echo $((QUICK ? 65536 : 1048576))
	fi
}

# row_warmup ROW: the warm-up, at least 1 s in the virtio row (the DUT's
# virtio-user ports connect to the generator's vhost-user ones first)
row_warmup() {
	if [[ "$1" == virtio && "$WARMUP" == 0 ]]; then
		echo 1
	else
		echo "$WARMUP"
	fi
}

# SYNs of the read-once storm
once_syns() {
	echo $((QUICK ? 100000 : 1000000))
}

row_gen_args() {
	case "$1" in
	est1k | virtio) echo "-m established -n 1000 --data 2" ;;
	est1m)
		if ((QUICK)); then
			echo "-m established -n 2000 --data 1 --dst 10.59.118.0/24"
		else
			echo "-m established -n 1M --data 1 --dst 10.59.118.0/24"
		fi
		;;
	storm) echo "-m syn -n $((QUICK ? 2000 : 100000)) --dst 10.59.118.0/24" ;;
	denied) echo "-m denied -n $((QUICK ? 2000 : 6000))" ;;
	esac
}

row_has_replies() {
	[[ "$1" == est1k || "$1" == est1m ]]
}

# row_ceiling ROW: the ceiling of the headline ratio, as the performance targets (doc/performance.md):
# 5tswap where frames are forwarded, io where none is (all denied)
row_ceiling() {
	[[ "$1" == denied ]] && echo io || echo 5tswap
}

GW_MAC=02:00:cb:00:71:01

write_policy() {
	mkdir -p "$TMP/policy"
	cat >"$TMP/policy/memorystore-bench.yaml" <<-'EOF'
	# The Memorystore allowlist, widened to the /24 so that a million flows
	# fit with preserved NAT ports (one per destination and client port).
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata:
	  name: memorystore-bench
	spec:
	  hosts:
	  - memorystore.bench.internal
	  addresses:
	  - 10.59.118.0/24
	  ports:
	  - number: 6379
	    name: tcp-redis
	    protocol: TCP
	  location: MESH_EXTERNAL
	  resolution: NONE
	EOF
}

# write_config ROW: egressd's config for the row, inside neighbours from the
# generator (the clients' MACs), the gateway pinned.
write_config() {
	local row=$1 max embryonic dev=net_pcap nat_addrs="203.0.113.10" alloc=preserve
	local neigh i
	max=$(row_flows_max "$row")
	embryonic=$max
	[[ "$row" == storm ]] && embryonic=$((QUICK ? 1024 : 65536))
	[[ "$row" == virtio ]] && dev=net_virtio_user
	neigh=", neighbors: $(cat "$TMP/$row/neighbors.yaml")"
	if [[ "$row" == once ]]; then
		# a million flows to one destination: 64 NAT addresses (the most
		# the config takes) of 64512 ports each, chosen at random, so that
		# no address comes near full; no replies, so no clients' MACs
		for ((i = 11; i < 74; i++)); do
			nat_addrs+=", 203.0.113.$i"
		done
		alloc=random
		neigh=""
	fi
	cat >"$TMP/$row/egressd.yaml" <<-EOF
	# scripts/bench.sh, row $row
	ports:
	  inside:  { device: "${dev}0", address: 10.8.0.1/16$neigh }
	  outside: { device: "${dev}1", address: 203.0.113.10/24, gateway: 203.0.113.1,
	             neighbors: { 203.0.113.1: "$GW_MAC" } }
	nat:
	  addresses: [$nat_addrs]
	  ports: 1024-65535
	  port_alloc: $alloc
	policy:
	  outbound: REGISTRY_ONLY
	  deny: drop
	  sources: [../policy/]
	flows:
	  max: $max
	  embryonic_max: $embryonic
	  tcp_liberal: true
	workers: 1
	poll: { idle: $POLL_IDLE }
	EOF
	# the same with the operator's outputs on (--observe); the metrics port
	# is a free one of loopback, the flow log one file per row
	cat - "$TMP/$row/egressd.yaml" >"$TMP/$row/egressd-obs.yaml" <<-EOF
	metrics: { listen: "127.0.0.1:$(free_port)" }
	flowlog: { path: "$TMP/$row/flows.jsonl", denied_per_second: 100 }
	EOF
}

# free_port: a TCP port of loopback nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pcap_count FILE: frames in a capture (from its size: fixed 60 B frames
# except imix, so count records properly).
pcap_count() {
	python3 - "$1" <<-'PY'
	import struct
	import sys

	with open(sys.argv[1], "rb") as f:
	    f.seek(24)
	    n = 0
	    while True:
	        h = f.read(16)
	        if len(h) < 16:
	            break
	        f.seek(struct.unpack("<I", h[8:12])[0], 1)
	        n += 1
	print(n)
	PY
}

# once_capture DIR N: the read-once storm's captures. egress-gen makes every
# allowed flow's (destination, client port) unique, for port_alloc:
# preserve; here a million distinct 5-tuples go to one destination: SYN i
# from client i % 4096 (10.8.0.2 on, MAC 02:00:0a:08:00:02 + i % 4096),
# port 1024 + i / 4096, to 10.59.118.59:6379, 60 B frames with valid IPv4
# and TCP checksums; an empty outside capture.
once_capture() {
	python3 - "$1" "$2" <<-'PY'
	import struct
	import sys

	d, n = sys.argv[1], int(sys.argv[2])
	clients, client0, dst, dport = 4096, 0x0A080002, 0x0A3B763B, 6379
	hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)

	def fold(x):
	    x = (x & 0xFFFF) + (x >> 16)
	    x = (x & 0xFFFF) + (x >> 16)
	    return ~x & 0xFFFF

	# Ethernet, IPv4 (no options), TCP (no options), 6 bytes of padding
	frame = struct.Struct("!6s6sHBBHHHBBHIIHHIIHHHH6x")
	out = bytearray(hdr)
	for i in range(n):
	    c, sport = i % clients, 1024 + i // clients
	    src = client0 + c
	    ipid, seq = i & 0xFFFF, (i * 2654435761) & 0xFFFFFFFF
	    ip_sum = fold(0x4500 + 40 + ipid + 0x4000 + 0x4006 + (src >> 16) + (src & 0xFFFF)
	                  + (dst >> 16) + (dst & 0xFFFF))
	    tcp_sum = fold((src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + 20
	                   + sport + dport + (seq >> 16) + (seq & 0xFFFF) + 0x5002 + 64240)
	    mac = (0x02000A080002 + c).to_bytes(6, "big")
	    out += struct.pack("<IIII", i // 1000000, i % 1000000, 60, 60)
	    out += frame.pack(bytes.fromhex("027063617000"), mac, 0x0800,
	                      0x45, 0, 40, ipid, 0x4000, 64, 6, ip_sum, src, dst,
	                      sport, dport, seq, 0, 0x5002, 64240, tcp_sum, 0)
	open(f"{d}/in.pcap", "wb").write(out)
	open(f"{d}/out.pcap", "wb").write(hdr)
	open(f"{d}/neighbors.yaml", "w").write("{}\n")
	print(f"once: mode=syn flows={n} allowed={n} clients={clients} dst=10.59.118.59:{dport}"
	      f" inside={d}/in.pcap packets={n} (read once, not looped)")
	PY
}

generate() {
	local row=$1 d="$TMP/$1" args
	mkdir -p "$d"
	read -r -a args <<<"$(row_gen_args "$row")"
	if [[ "$row" == once ]]; then
		once_capture "$d" "$(once_syns)" >"$d/gen.out" 2>"$d/gen.err" || {
			cat "$d/gen.err" >&2
			die "the read-once storm's capture could not be written"
		}
	else
		"$GEN" -o "$d/in.pcap" -r "$d/out.pcap" "${args[@]}" --gw-mac "$GW_MAC" \
			--neighbors "$d/neighbors.yaml" 2>"$d/gen.err" >"$d/gen.out" || {
			cat "$d/gen.err" >&2
			die "egress-gen failed for row $row"
		}
	fi
	log "$row: $(sed 's/^egress-gen: //' "$d/gen.out")"
	write_config "$row"
	"$EGRESSD" --check -c "$d/egressd.yaml" >"$d/check.out" 2>"$d/check.err" || {
		cat "$d/check.err" >&2
		die "egressd --check rejects the config of row $row"
	}
	ROW_IN_PKTS=$(pcap_count "$d/in.pcap")
	ROW_OUT_PKTS=$(pcap_count "$d/out.pcap")
	echo "$ROW_IN_PKTS $ROW_OUT_PKTS" >"$d/npkts"
}

# vdev_args ROW: the two --vdev options, the same for testpmd and egressd.
# A capture with no frame cannot loop (net_pcap's infinite_rx would take mbufs
# and return none): it is read once, i.e. that port receives nothing.
vdev_args() {
	local row=$1 d="$TMP/$1" in out
	read -r in out <"$d/npkts"
	if [[ "$row" == virtio ]]; then
		# the DUT's side of the generator's vhost-user sockets
		VDEVS=(--vdev "net_virtio_user0,path=$d/vhost0.sock,queues=1,mac=${VIRTIO_MACS[0]}"
			--vdev "net_virtio_user1,path=$d/vhost1.sock,queues=1,mac=${VIRTIO_MACS[1]}")
		return 0
	fi
	if [[ "$row" == once ]]; then
		VDEVS=(--vdev "net_pcap0,rx_pcap=$d/in.pcap" --vdev "net_pcap1,rx_pcap=$d/out.pcap")
		return 0
	fi
	VDEVS=(--vdev "net_pcap0,rx_pcap=$d/in.pcap,infinite_rx=1")
	if ((out > 0)); then
		VDEVS+=(--vdev "net_pcap1,rx_pcap=$d/out.pcap,infinite_rx=1")
	else
		VDEVS+=(--vdev "net_pcap1,rx_pcap=$d/out.pcap")
	fi
}

next_prefix() {
	RUN_SEQ=$((RUN_SEQ + 1))
	PREFIX="egbench$$n$RUN_SEQ"
	bench_track_prefix "$PREFIX"
}

# --- the virtio row's generator and DUT memory (header) ---

# gen_up ROW TAG: the generator, until its vhost-user sockets are there and
# it forwards; GEN_PID, GEN_PREFIX, GEN_LOG. 1 if it does not come up.
gen_up() {
	local row=$1 tag=$2 d="$TMP/$1" in out
	read -r in out <"$d/npkts"
	rm -f "$d/vhost0.sock" "$d/vhost1.sock"
	next_prefix
	GEN_PREFIX=$PREFIX
	GEN_LOG="$d/gen-$tag.log"
	# --disable-link-check: a vhost port is down until its DUT connects
	dpdk-testpmd -l "$GEN_LCORES" --main-lcore "$GEN_MAIN" --no-pci --file-prefix "$GEN_PREFIX" \
		"${MEM_ARGS[@]}" \
		--vdev "net_pcap0,rx_pcap=$d/in.pcap,infinite_rx=1" \
		--vdev "net_vhost0,iface=$d/vhost0.sock,queues=1,legacy-ol-flags=1" \
		--vdev "net_pcap1,rx_pcap=$d/out.pcap,infinite_rx=1" \
		--vdev "net_vhost1,iface=$d/vhost1.sock,queues=1,legacy-ol-flags=1" \
		-- --forward-mode=io --stats-period 1 --no-lsc-interrupt --disable-link-check \
		--burst=64 --total-num-mbufs=$((in + out + 32768)) </dev/null >"$GEN_LOG" 2>&1 &
	GEN_PID=$!
	bench_track_pid "$GEN_PID"
	if bench_wait_for "$GEN_LOG" "packet forwarding - ports=" "$GEN_PID" 120 &&
		[[ -S "$d/vhost0.sock" && -S "$d/vhost1.sock" ]]; then
		return 0
	fi
	bench_stop_dpdk "$GEN_PID" KILL 2 "$GEN_PREFIX"
	return 1
}

# gen_mark: how many stats blocks the generator has printed (the DUT's
# measurement ends now; gen_down looks at the blocks before it).
gen_mark() {
	GEN_MARK=$(grep -c "Port statistics" "$GEN_LOG" || true)
}

# gen_down: stop the generator; GEN_OFFERED = the median of what it read from
# its loops (Mpps, ports 0 and 2) over the SECONDS_MEASURED blocks up to
# gen_mark, and what the DUT's rings took of it (ports 1 and 3 Tx): "READ/TOOK".
gen_down() {
	bench_stop_dpdk "$GEN_PID" KILL 5 "$GEN_PREFIX"
	GEN_OFFERED=$(testpmd_stats "$GEN_LOG" gen "${GEN_MARK:-0}") || GEN_OFFERED=-
}

# testpmd_stats LOG dut WARMUP: the median Mpps of a testpmd DUT (Rx-pps,
# both ports summed) over the SECONDS_MEASURED blocks after the first and
# WARMUP more, or "fail"; testpmd_stats LOG gen MARK: the generator's
# "READ/TOOK" (gen_down) over the SECONDS_MEASURED blocks before block MARK,
# or "-".
testpmd_stats() {
	python3 - "$1" "$2" "$3" "$SECONDS_MEASURED" <<-'PY'
	import re
	import statistics
	import sys

	# one "Port statistics" block a second, an Rx-pps and a Tx-pps line per port
	blocks, cur = [], None
	for line in open(sys.argv[1], errors="replace"):
	    if "Port statistics" in line:
	        cur = []
	        blocks.append(cur)
	    m = re.search(r"[RT]x-pps:\s+(\d+)", line)
	    if m and cur is not None:
	        cur.append(int(m.group(1)))
	kind, at, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	if kind == "dut":
	    # two ports: Rx, Tx, Rx, Tx
	    sums = [b[0] + b[2] for b in blocks[1 + at:1 + at + n] if len(b) == 4]
	    print(f"{statistics.median(sums) / 1e6:.3f}" if sums else "fail")
	else:
	    # ports 0, 2 net_pcap (read from the loops), 1, 3 vhost (Tx: taken by
	    # the DUT's rings)
	    got = [b for b in blocks[max(0, at - n):at] if len(b) == 8]
	    if got:
	        read = statistics.median(b[0] + b[4] for b in got) / 1e6
	        took = statistics.median(b[3] + b[7] for b in got) / 1e6
	        print(f"{read:.2f}/{took:.2f}")
	    else:
	        print("-")
	PY
}

# dut_mem_args ROW: the EAL memory options of a DUT (DUT_MEM); hugepages on a
# virtio-user port need --single-file-segments (header)
dut_mem_args() {
	DUT_MEM=("${MEM_ARGS[@]}")
	if [[ "$1" == virtio && "$MEM_DESC" != --no-huge ]]; then
		DUT_MEM=(--huge-dir "$BENCH_HUGE_DIR" --single-file-segments)
	fi
}

# dut_mem_release PREFIX: its hugepage files, kept without --huge-unlink
dut_mem_release() {
	if [[ -n "${BENCH_HUGE_DIR:-}" ]]; then
		rm -f "$BENCH_HUGE_DIR/$1"map_*
	fi
}

# --- the read-once storm (header) ---

# once_poll_start PREFIX KIND: start the poller (KIND ethdev: testpmd's port
# 0, egress: egressd) on the telemetry socket of PREFIX in the background,
# before the program (whose PID it reads from POLL_OUT.pid once there, to
# give up when it exits): POLL_PID, its output in POLL_OUT.
once_poll_start() {
	local prefix=$1 kind=$2 n
	n=$(once_syns)
	rm -f "$POLL_OUT.pid"
	bench_telemetry_cmd "$prefix"
	"${BENCH_TELEMETRY_CMD[@]}" "$kind" "$n" $((120 + n / 20000)) "$POLL_OUT.pid" \
		<"$TMP/once-poll.py" >"$POLL_OUT" 2>&1 &
	POLL_PID=$!
	bench_track_pid "$POLL_PID"
	bench_wait_for "$POLL_OUT" "^poller ready" "$POLL_PID" 60 || true
}

# once_poll_pid PID: the program's PID for the poller, renamed into place
# (never read half written)
once_poll_pid() {
	echo "$1" >"$POLL_OUT.pid.tmp"
	mv "$POLL_OUT.pid.tmp" "$POLL_OUT.pid"
}

# once_poll_result: wait for the poller; POLL_RES = its last line
once_poll_result() {
	wait "$POLL_PID" 2>/dev/null || true
	bench_forget_pid "$POLL_PID"
	POLL_RES=$(tail -n 1 "$POLL_OUT")
	[[ -n "$POLL_RES" ]] || POLL_RES="fail poller"
}

write_once_poller() {
	cat >"$TMP/once-poll.py" <<-'PY'
	# argv: socket, ethdev|egress, SYNs, seconds at most, a file with the
	# program's PID. Prints "RX_MPPS FLOWS_PER_S WINDOW_MS SAMPLES SOURCE"
	# (SOURCE: what flows/s was timed on, flows_created or rx) or
	# "fail REASON".
	import os
	import sys
	import time

	import egress_telemetry

	path, kind, n, limit, pidf = sys.argv[1:6]
	n, limit = int(n), float(limit)
	start = time.monotonic()
	deadline = start + limit

	def gone():
	    try:
	        with open(pidf) as f:
	            os.kill(int(f.read()), 0)
	    except (FileNotFoundError, ValueError):
	        return False  # not started yet (the file is renamed into place)
	    except OSError:
	        return True
	    return False

	# the program starts once this is read (once_poll_start): the socket is
	# tried every millisecond, it appears at the end of the EAL's start,
	# before the ports and the forwarding start
	print("poller ready", file=sys.stderr, flush=True)
	while (s := egress_telemetry.connect(path, 0)) is None:
	    if gone() or time.monotonic() > deadline:
	        print("fail telemetry: the program exited or never served it")
	        sys.exit(0)
	    time.sleep(0.001)
	print(f"connected after {time.monotonic() - start:.3f} s", file=sys.stderr)

	def read():
	    # the port's ipackets, from DPDK's own telemetry (served from the
	    # EAL's start, before any frame); egressd's flows_created once the
	    # first frame is in (asked before, /egress/stats can take tens of
	    # milliseconds to answer while egressd starts: no rx sample meanwhile)
	    # each count with the middle of its own question's round trip
	    t0 = time.monotonic()
	    rx = egress_telemetry.ask(s, "/ethdev/stats,0")["/ethdev/stats"]["ipackets"]
	    t1 = time.monotonic()
	    if kind == "ethdev":
	        return (t0 + t1) / 2, rx, (t0 + t1) / 2, rx
	    if rx == 0:
	        return (t0 + t1) / 2, rx, None, None
	    try:
	        fl = egress_telemetry.ask(s, "/egress/stats")["/egress/stats"]["flows_created"]
	    except (KeyError, TypeError):
	        fl = None
	    return (t0 + t1) / 2, rx, (t1 + time.monotonic()) / 2, fl

	samples = []
	last_fl, last_t = None, time.monotonic()
	while True:
	    t0 = time.monotonic()
	    try:
	        t_rx, rx, t_fl, fl = read()
	    except (KeyError, TypeError, ValueError) as e:
	        rx, fl = None, None  # no port yet
	        print(f"{t0 - start:.3f}: no answer ({e!r})", file=sys.stderr)
	    except OSError:
	        print("fail telemetry closed")
	        sys.exit(0)
	    t1 = time.monotonic()
	    if rx is not None:
	        if not samples or samples[-1][1] == 0:
	            print(f"{t0 - start:.3f}: {rx} {fl}", file=sys.stderr)
	        samples.append((t_rx, rx, t_fl, fl))
	        # to the end of the capture: every SYN read and processed (or
	        # nothing more for 0.2 s: what is missing shows in the final JSON)
	        if rx >= n and fl is not None and (fl >= n or fl == last_fl and t1 - last_t > 0.2):
	            break
	        if fl != last_fl:
	            last_fl, last_t = fl, t1
	    if t1 > deadline or gone():
	        print(f"fail timeout or exit at {samples[-1][1:] if samples else 'no answer'}")
	        sys.exit(0)
	    time.sleep(0.002)

	def rate(col):
	    # 5 % to 95 % of the SYNs: (count per second, seconds); the crossings
	    # linear between the samples around them. None when the first
	    # answer came after 5 %.
	    got = [(smp[col - 1], smp[col]) for smp in samples if smp[col] is not None]
	    if got[0][1] >= 0.05 * n:
	        return None

	    def cross(level):
	        for (ta, va), (tb, vb) in zip(got, got[1:]):
	            if vb >= level:
	                return ta + (level - va) * (tb - ta) / (vb - va)

	    return 0.9 * n / (cross(0.95 * n) - cross(0.05 * n)), cross(0.95 * n) - cross(0.05 * n)

	rx_rate = rate(1)
	if rx_rate is None:
	    print(f"fail late: the first answer came at {samples[0][1]} of {n} SYNs")
	    sys.exit(0)
	fl_rate, source = rate(3), "flows_created" if kind == "egress" else "rx"
	if fl_rate is None:
	    # /egress/stats answered late: each SYN makes a flow (the final JSON
	    # is checked for it), so the flow rate is the SYN rate
	    fl_rate, source = rx_rate, "rx"
	inside = [x for x in samples if 0.05 * n <= x[1] <= 0.95 * n]
	print(f"{rx_rate[0] / 1e6:.3f} {fl_rate[0]:.0f} {rx_rate[1] * 1e3:.1f} {len(inside)} {source}")
	PY
}

# run_testpmd_once ROW MODE RUN: RESULT = its Mpps over 5-95 % of the
# read-once storm (header), or "fail".
run_testpmd_once() {
	local row=$1 mode=$2 run=$3 d="$TMP/$1" log pid
	vdev_args "$row"
	next_prefix
	log="$d/testpmd-$mode-$run.log"
	POLL_OUT="$d/poll-testpmd-$mode-$run.out"
	once_poll_start "$PREFIX" ethdev
	dpdk-testpmd -l "$LCORES" --no-pci --file-prefix "$PREFIX" "${MEM_ARGS[@]}" \
		"${VDEVS[@]}" -- --forward-mode="$mode" --stats-period 1 --no-lsc-interrupt \
		--burst=64 </dev/null >"$log" 2>&1 &
	pid=$!
	bench_track_pid "$pid"
	once_poll_pid "$pid"
	once_poll_result
	bench_stop_dpdk "$pid" KILL 5 "$PREFIX"
	log "$row run $run: testpmd $mode: poller: $POLL_RES (Mpps flows/s window-ms samples flows-from)"
	if [[ "$POLL_RES" == fail* ]]; then
		RESULT=fail
	else
		RESULT=${POLL_RES%% *}
	fi
}

# run_testpmd ROW MODE RUN: RESULT = the median Mpps, or "fail"; in the
# virtio row followed by what the generator offered (gen_down).
run_testpmd() {
	local row=$1 mode=$2 run=$3 d="$TMP/$1" in out mbufs size_args=() log pid extra=() warm
	if [[ "$row" == once ]]; then
		run_testpmd_once "$@"
		return 0
	fi
	read -r in out <"$d/npkts"
	if [[ "$row" == virtio ]]; then
		if ! gen_up "$row" "testpmd-$mode-$run"; then
			RESULT=fail
			return 0
		fi
		# the L4 checksums to the virtio port, as egressd (header)
		[[ "$mode" == csum ]] && extra=(--tx-offloads=0xc)
	fi
	vdev_args "$row"
	next_prefix
	dut_mem_args "$row"
	mbufs=$((in + out + 32768))
	# 2176 B mbufs as egressd's, unless the loop does not fit the memory:
	# then 256 B ones (enough for 64 B frames; noted)
	if ! row_fits "$row"; then
		size_args=(--mbuf-size=256)
		NOTE_SMALL_MBUF=1
	fi
	log="$d/testpmd-$mode-$run.log"
	dpdk-testpmd -l "$LCORES" --no-pci --file-prefix "$PREFIX" "${DUT_MEM[@]}" \
		"${VDEVS[@]}" -- --forward-mode="$mode" --stats-period 1 --no-lsc-interrupt \
		--burst=64 --total-num-mbufs="$mbufs" "${size_args[@]}" "${extra[@]}" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	bench_track_pid "$pid"
	if ! bench_wait_for "$log" "Port statistics" "$pid" 300; then
		bench_stop_dpdk "$pid" KILL 2 "$PREFIX"
		dut_mem_release "$PREFIX"
		[[ "$row" == virtio ]] && gen_down
		RESULT=fail
		return 0
	fi
	# one block of Rx-pps lines (one per port) a second, the first partial:
	# killed once the last block measured is printed. Nothing of it outlives
	# it (its hugepage files are unlinked, its runtime folder removed here),
	# and SIGINT would take up to a second: testpmd looks at it only between
	# the one-second sleeps of its stats loop.
	warm=$(row_warmup "$row")
	bench_wait_for "$log" "Rx-pps" "$pid" $((warm + SECONDS_MEASURED + 30)) \
		$((2 * (1 + warm + SECONDS_MEASURED))) || true
	[[ "$row" == virtio ]] && gen_mark
	bench_stop_dpdk "$pid" KILL 5 "$PREFIX"
	dut_mem_release "$PREFIX"
	RESULT=$(testpmd_stats "$log" dut "$warm")
	if [[ "$row" == virtio ]]; then
		gen_down
		RESULT+=" $GEN_OFFERED"
	fi
}

# run_egressd ROW RUN [obs]: RESULT = "Mpps cycles/pkt flows/s odd-drops
# bytes/flow loop-cycles/pkt tx-l4-csum offered", or "fail REASON". With
# obs: the config with /metrics and flow logs on, and /metrics scraped once a
# second meanwhile. tx-l4-csum: on or off (virtio row: both ports' log line),
# else -; offered: gen_down's (virtio row), else -.
run_egressd() {
	local row=$1 run=$2 obs=${3:-} d="$TMP/$1" in out pid logo loge app_args=() res json
	local conf="$d/egressd.yaml" url="" txcsum=- n_on rc
	GEN_OFFERED=-
	if [[ -n "$obs" ]]; then
		conf="$d/egressd-obs.yaml"
		url="http://$(sed -n 's/^metrics: { listen: "\([^"]*\)" }$/\1/p' "$conf")/metrics"
	fi
	read -r in out <"$d/npkts"
	if ! row_fits "$row"; then
		RESULT="fail memory"
		return 0
	fi
	vdev_args "$row"
	if [[ "$row" == virtio ]] && ! gen_up "$row" "egressd$obs-$run"; then
		RESULT="fail generator"
		return 0
	fi
	next_prefix
	dut_mem_args "$row"
	# egressd sizes its mbuf pool itself; a loop of more frames than the pool
	# holds cannot be replayed (net_pcap copies the loop into the port's pool
	# at set-up). An --mbufs option, once egressd has one, is used. (No
	# loop in the virtio and read-once rows.)
	if [[ "$row" != virtio && "$row" != once ]] &&
		"$EGRESSD" --help 2>&1 | grep -q -- '--mbufs'; then
		app_args+=(--mbufs $((in + out + 16384)))
	fi
	logo="$d/egressd$obs-$run.out"
	loge="$d/egressd$obs-$run.err"
	if [[ "$row" == once ]]; then
		POLL_OUT="$d/poll-egressd$obs-$run.out"
		once_poll_start "$PREFIX" egress
	fi
	"$EGRESSD" -l "$LCORES" --no-pci --file-prefix "$PREFIX" "${DUT_MEM[@]}" "${VDEVS[@]}" \
		-- -c "$conf" --api-socket "$d/api.sock" "${app_args[@]}" </dev/null >"$logo" 2>"$loge" &
	pid=$!
	bench_track_pid "$pid"
	[[ "$row" == once ]] && once_poll_pid "$pid"
	if ! bench_wait_for "$logo" '^egressd: ready' "$pid" 300; then
		bench_stop_dpdk "$pid" KILL 2 "$PREFIX"
		dut_mem_release "$PREFIX"
		[[ "$row" == once ]] && once_poll_result
		[[ "$row" == virtio ]] && gen_down
		if grep -q "Not enough mbufs" "$loge"; then
			RESULT="fail pool"
		else
			RESULT="fail start"
		fi
		return 0
	fi
	if [[ "$row" == virtio ]]; then
		# TX checksum offload in use: "offloads: ... tx tcp/udp checksum on"
		# for both virtio-user ports (app/egressd/port.c)
		n_on=$(grep -c "net_virtio_user[01]: offloads: .*tx tcp/udp checksum on" "$loge" || true)
		txcsum=off
		[[ "$n_on" == 2 ]] && txcsum=on
	fi
	if [[ "$row" == once ]]; then
		once_poll_result
		log "$row run $run: egressd$obs: poller: $POLL_RES (Mpps flows/s window-ms samples flows-from)"
		if [[ "$POLL_RES" == fail* ]]; then
			res="fail telemetry"
		else
			res=$(cut -d' ' -f1,2 <<<"$POLL_RES")
		fi
	else
		res=$(egressd_measure "$url" "$(row_warmup "$row")") || res="fail telemetry"
	fi
	[[ "$row" == virtio ]] && gen_mark
	bench_stop_dpdk "$pid" TERM 30 "$PREFIX"
	rc=$BENCH_STOP_RC
	dut_mem_release "$PREFIX"
	[[ "$row" == virtio ]] && gen_down
	json=$(grep '^{' "$logo" | tail -n 1 || true)
	if [[ "$res" == fail* || -z "$json" || "$rc" != 0 ]]; then
		log "$row run $run: egressd$obs: measured: ${res:-nothing}; exit status $rc;" \
			"final JSON ${json:+printed}${json:-missing}"
		RESULT="fail run"
		return 0
	fi
	RESULT=$(python3 - "$json" "$res" "$row" "$(once_syns)" "$txcsum" "$GEN_OFFERED" <<-'PY'
	import json
	import sys

	o = json.loads(sys.argv[1])
	mpps, fps = sys.argv[2].split()
	row, syns, txcsum, offered = sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
	rx = o["ports"]["inside"]["rx"] + o["ports"]["outside"]["rx"]
	expected = {"denied": {"policy_denied"}}.get(row, set())
	odd = {k: v for k, v in o["drops"].items() if v and k not in expected and v * 100 > rx}
	loop = o.get("cycles_per_packet_loop")
	if row == "once":
	    # every SYN a flow, nothing evicted, nothing dropped; the loop's
	    # cycles are over the whole run, idle after the capture's end too
	    odd = {k: v for k, v in o["drops"].items() if v}
	    if o["embryonic_evicted"]:
	        odd["evicted"] = o["embryonic_evicted"]
	    if o["flows_created"] != syns:
	        odd["created"] = f"{o['flows_created']}/{syns}"
	    loop = None
	# per frame over the whole run (TSC): the pipeline's cycles (dp_process)
	# and the worker's whole loop (an egressd without it: n/a)
	print(mpps, f"{o['cycles_per_packet']:.1f}", fps,
	      ",".join(f"{k}={v}" for k, v in sorted(odd.items())) or "-",
	      o.get("bytes_per_flow", "n/a"), "n/a" if loop is None else f"{loop:.1f}",
	      txcsum, offered)
	PY
	)
}

# egressd_measure URL WARMUP: "Mpps flows/s" of the egressd of PREFIX over
# the measured interval after WARMUP s (/metrics scraped meanwhile if URL).
egressd_measure() {
	bench_telemetry_cmd "$PREFIX"
	"${BENCH_TELEMETRY_CMD[@]}" "$2" "$SECONDS_MEASURED" "$1" <<-'PY'
	import sys
	import time
	import urllib.request

	import egress_telemetry

	path, warm, n, url = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
	s = egress_telemetry.connect(path, 10)
	if s is None:
	    print("fail telemetry")
	    sys.exit(0)

	def sample():
	    t = time.monotonic()
	    o = egress_telemetry.ask(s, "/egress/stats")["/egress/stats"]
	    return t, o["inside"]["rx"] + o["outside"]["rx"], o["flows_created"]

	def wait(secs):
	    # with a url, a Prometheus scrape a second meanwhile (--observe)
	    end = time.monotonic() + secs
	    while (left := end - time.monotonic()) > 0:
	        if url:
	            urllib.request.urlopen(url, timeout=5).read()
	        time.sleep(min(1.0, max(0.0, end - time.monotonic())))

	time.sleep(warm)
	t1, rx1, f1 = sample()
	wait(n)
	t2, rx2, f2 = sample()
	print(f"{(rx2 - rx1) / (t2 - t1) / 1e6:.3f} {(f2 - f1) / (t2 - t1):.0f}")
	PY
}

# run_pipeline ROW: the pipeline alone on the row's captures and config
# (app/bench/bench-pipeline: dp_process() timed per burst, no PMD; its
# median and p10 move by a cycle or two between runs where the rows above
# move by a fifth), as a note under the table. Not for the virtio row (the
# same captures as est1k) nor est1m (its captures outgrow the tool's pool).
run_pipeline() {
	local row=$1 d="$TMP/$1" args=() res
	case "$row" in
	est1k | storm | denied) ;;
	once) args+=(--once) ;;
	*) return 0 ;;
	esac
	row_has_replies "$row" && args+=(--out "$d/out.pcap")
	((QUICK)) && args+=(--bursts 2000)
	next_prefix
	res=$(cd "$d" && "$BENCH_BUILD_DIR/app/bench/bench-pipeline" -l 1 --no-pci \
		--file-prefix "$PREFIX" "${MEM_ARGS[@]}" --log-level=warning \
		-- -c egressd.yaml --in in.pcap "${args[@]}" 2>"$d/pipeline.err") ||
		res="fail: $(tail -n 1 "$d/pipeline.err")"
	log "$row: pipeline alone: $res"
	NOTES+=("$(row_label "$row"): pipeline alone (bench-pipeline, cycles/frame): $(echo "$res" |
		sed -E 's/^bursts [0-9]+ frames [0-9]+ cycles\/pkt //')")
}

# --- main -------------------------------------------------------------------

main() {
	local row run mode label pool_fail obs
	parse_args "$@"
	bench_require bench "$LCORES" dpdk-testpmd python3 meson ninja
	bench_traps cleanup
	TMP=$(mktemp -d /tmp/egressd-bench.XXXXXX)
	build
	write_policy
	write_once_poller
	IFS=, read -r -a ROW_LIST <<<"$ROWS"
	for row in "${ROW_LIST[@]}"; do
		[[ -n "$(row_label "$row")" ]] ||
			die "unknown row: $row (est1k, est1m, storm, denied, virtio, once)"
		generate "$row"
	done
	size_hugepages
	setup_memory
	NOTE_SMALL_MBUF=0
	LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
	NOTES+=("load average at the start: $LOAD_START on $(nproc) cores (anything else running shares them)")

	: >"$TMP/samples.tsv"
	for row in "${ROW_LIST[@]}"; do
		pool_fail=0
		for ((run = 1; run <= RUNS; run++)); do
			for mode in "${CEILINGS[@]}"; do
				run_testpmd "$row" "$mode" "$run"
				log "$row run $run: testpmd $mode: $RESULT Mpps"
				printf '%s\t%s\t%s\t%s\n' "$row" "$run" "testpmd-$mode" "$RESULT" \
					>>"$TMP/samples.tsv"
			done
			# a pool too small stays too small: not tried again
			((pool_fail)) && continue
			for obs in "" ${OBSERVE:+-obs}; do
				run_egressd "$row" "$run" "$obs"
				log "$row run $run: egressd$obs: $RESULT" \
					"(Mpps cycles/pkt flows/s odd-drops bytes/flow loop-cycles/pkt)"
				printf '%s\t%s\t%s\t%s\n' "$row" "$run" "egressd$obs" "$RESULT" \
					>>"$TMP/samples.tsv"
				if [[ "$RESULT" == "fail pool" || "$RESULT" == "fail memory" ]]; then
					pool_fail=1
					break
				fi
			done
		done
	done
	for row in "${ROW_LIST[@]}"; do
		run_pipeline "$row"
	done
	if ((NOTE_SMALL_MBUF)); then
		NOTES+=("testpmd used 256 B mbufs where 2176 B ones would not fit ${HUGE_MB} MiB")
	fi

	for row in "${ROW_LIST[@]}"; do
		label=$(row_label "$row")
		printf '%s\t%s\t%s\t%s\t%s\n' "$row" "$label" \
			"$(awk '{print $1 + $2}' "$TMP/$row/npkts")" \
			"$(sed -n 's/.* flows=\([0-9]*\) .*/\1/p' "$TMP/$row/gen.out")" "$(row_ceiling "$row")"
	done >"$TMP/rows.tsv"
	python3 - "$TMP/rows.tsv" "$TMP/samples.tsv" "$RUNS" "$SECONDS_MEASURED" "$WARMUP" \
		"$MEM_DESC" "${OUT:-}" "${CEILINGS[*]}" "${NOTES[@]}" <<-'PY'
	import statistics
	import sys

	rows_f, samples_f, runs, secs, warm, mem, out, ceilings = sys.argv[1:9]
	ceilings = ceilings.split()
	notes = sys.argv[9:]
	rows = [l.rstrip("\n").split("\t") for l in open(rows_f)]
	samples = [l.rstrip("\n").split("\t") for l in open(samples_f)]

	def med(vals):
	    vals = [float(v) for v in vals if v != "n/a"]
	    return statistics.median(vals) if vals else None

	def fmt(v, spec=".2f"):
	    return "n/a" if v is None else format(v, spec)

	def si(v):
	    if v is None:
	        return "n/a"
	    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}k"

	def ratio(a, b):
	    return a / b if a is not None and b else None

	def gen_pair(vals):
	    # "READ/TOOK" of each run (gen_down): the medians, as READ/TOOK
	    pairs = [[float(x) for x in v.split("/")] for v in vals if "/" in v]
	    return "/".join(fmt(med(p[k] for p in pairs)) for k in (0, 1)) if pairs else "n/a"

	table, fails = [], []
	for row, label, frames, flows, headline in rows:
	    got = {}
	    for r, _, prog, val in samples:
	        if r == row:
	            got.setdefault(prog, []).append(val.split())
	    ceil = {c: med(v[0] for v in got.get("testpmd-" + c, []) if v[0] != "fail")
	            for c in ceilings}
	    for prog in [p for p in ("egressd", "egressd-obs") if p in got or p == "egressd"]:
	        name = label if prog == "egressd" else label + " + metrics, flowlog"
	        eg = [v for v in got.get(prog, []) if v[0] != "fail"]
	        why = {"pool": "did not start: its mbuf pool cannot hold the looped captures "
	                       f"(net_pcap infinite_rx copies all {frames} frames into the port's "
	                       "pool at start-up; this egressd has no --mbufs option)",
	               "memory": f"not run: its loops need 2176 B mbufs for {frames} frames, more "
	                         "memory than could be had (--huge-mb, or -m with --no-huge)",
	               "start": "did not start (see its log with --keep)",
	               "run": "did not run to the end, or gave no final JSON (--keep for logs)",
	               "telemetry": "no answer on the telemetry socket",
	               "generator": "not run: the virtio row's generator (testpmd on net_vhost and "
	                            "net_pcap) did not come up (its log with --keep)"}
	        for v in got.get(prog, []):
	            if v[0] == "fail":
	                fails.append(f"{name}: egressd {why.get(v[1], v[1])}")
	        for c in ceilings if prog == "egressd" else ():
	            if got.get("testpmd-" + c) and ceil[c] is None:
	                fails.append(f"{label}: testpmd {c} gave no rate (--keep for its log)")
	        e_mpps = med(v[0] for v in eg)
	        e_cpp = med(v[1] for v in eg)
	        flows_row = row in ("storm", "once")
	        e_fps = med(v[2] for v in eg) if flows_row else None
	        e_bpf = med(v[4] for v in eg if len(v) > 4)
	        e_loop = med(v[5] for v in eg if len(v) > 5)
	        odd = sorted({v[3] for v in eg if v[3] != "-"})
	        head_ratio = ratio(e_mpps, ceil.get(headline))
	        table.append([name, flows] + [fmt(ceil[c]) for c in ceilings] + [fmt(e_mpps),
	                     (fmt(head_ratio) + " of " + headline) if head_ratio is not None else "n/a"]
	                     + [fmt(ratio(e_mpps, ceil[c])) for c in ceilings]
	                     + [fmt(e_cpp, ".0f"), fmt(e_loop, ".0f"),
	                        si(e_fps) if flows_row else "-", fmt(e_bpf, ".0f")])
	        for o in odd:
	            fails.append(f"{name}: egressd " + ("dropped, evicted or missed flows (every SYN "
	                         "must make one)" if row == "once" else "drops over 1% of rx") + f": {o}")
	        if row == "virtio" and prog == "egressd":
	            on = [v[6] for v in eg if len(v) > 7]
	            notes.append(f"{label}: egressd's TX TCP/UDP checksum offload (its log, both "
	                         f"virtio-user ports): on in {on.count('on')} of {len(on)} run(s)")
	            offered = [f"{c} {gen_pair(v[1] for v in got.get('testpmd-' + c, []) if len(v) > 1)}"
	                       for c in ceilings]
	            offered.append(f"egressd {gen_pair(v[7] for v in eg if len(v) > 7)}")
	            notes.append(f"{label}: the generator read / the DUT's rings took, Mpps: "
	                         + ", ".join(offered))

	# "ratio" (the headline) and "cycles/pkt" keep their names and meaning
	head = (["row", "flows"] + [f"testpmd {c} Mpps" for c in ceilings] + ["egressd Mpps", "ratio"]
	        + [f"/{c}" for c in ceilings]
	        + ["cycles/pkt", "loop cycles/pkt", "flows/s", "bytes/flow"])
	w = [max(len(str(r[i])) for r in table + [head]) for i in range(len(head))]
	print(f"egressd pcap-replay benchmark: -l 0,1 (1 worker), {mem}, net_pcap infinite_rx, "
	      f"64 B frames; median of {runs} run(s) of {secs} s after {warm} s warm-up "
	      "(read-once storm: 5-95 % of one pass; virtio: net_virtio_user ports, a generator "
	      "on vhost-user)")
	print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip())
	for r in table:
	    print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
	print(", ".join("/" + c for c in ceilings) + ": egressd Mpps over that testpmd ceiling; "
	      "cycles/pkt: in dp_process(); loop cycles/pkt: the worker's whole poll loop")
	for n in notes:
	    print("note:", n)
	for f in fails:
	    print("note:", f)
	if out:
	    with open(out, "w") as fh:
	        fh.write("\t".join(head) + "\n")
	        for r in table:
	            fh.write("\t".join(map(str, r)) + "\n")
	        fh.write("\n# samples: row run program values\n")
	        for s in samples:
	            fh.write("\t".join(s) + "\n")
	PY
}

main "$@"
