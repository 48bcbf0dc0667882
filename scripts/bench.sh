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
#   all denied       6000 SYNs to 10.59.118.59:6380, which no ServiceEntry lists.
# 64 B frames (60 B + FCS), 64 mesh clients (static neighbours), one NAT
# address with port_alloc: preserve. A replayed loop repeats sequence numbers,
# so the benchmark runs with TCP window checks relaxed (flows.tcp_liberal:
# true, as Linux's nf_conntrack_tcp_be_liberal); embryonic_max is flows.max
# in the established rows (a SYN pass of 1 M flows precedes their ACKs).
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
#   ratio     the headline: egressd / testpmd 5tswap for forwarding rows,
#             / testpmd io for the all-denied row (nothing is forwarded
#             there); then egressd / each of io, 5tswap and csum, every row.
#
# Usage: scripts/bench.sh [--quick] [--runs N] [--seconds S] [--warmup S]
#                         [--build-dir DIR] [--no-build] [--no-huge] [--huge-mb MB]
#                         [--rows LIST] [--out FILE] [--keep] [--observe]
#                         [--poll-idle MODE]
#   --quick       smoke run: small captures, 2 s per measurement, 1 run, the
#                 1M row shrunk to 2000 flows; falls back to --no-huge when
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
#   --rows LIST   comma-separated subset of est1k,est1m,storm,denied
#   --out FILE    also write the medians and every sample as TSV
#   --keep        keep the temporary folder (captures, configs, logs)
#   --observe     each run also runs egressd with the operator's outputs on,
#                 right after the plain one (same row, same captures): /metrics
#                 served and scraped once a second during the measurement,
#                 and flow logs written (flowlog, denied_per_second 100); its
#                 figures are a second line per row, "+ metrics, flowlog"
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
ROWS="est1k,est1m,storm,denied"
OUT=""
KEEP=0
OBSERVE=""
POLL_IDLE=busy

LCORES=0,1
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
	max=$((QUICK ? 65536 : 1048576))
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
	esac
}

row_gen_args() {
	case "$1" in
	est1k) echo "-m established -n 1000 --data 2" ;;
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
	local row=$1 max embryonic
	max=$((QUICK ? 65536 : 1048576))
	embryonic=$max
	[[ "$row" == storm ]] && embryonic=$((QUICK ? 1024 : 65536))
	cat >"$TMP/$row/egressd.yaml" <<-EOF
	# scripts/bench.sh, row $row
	ports:
	  inside:  { device: "net_pcap0", address: 10.8.0.1/16,
	             neighbors: $(cat "$TMP/$row/neighbors.yaml") }
	  outside: { device: "net_pcap1", address: 203.0.113.10/24, gateway: 203.0.113.1,
	             neighbors: { 203.0.113.1: "$GW_MAC" } }
	nat:
	  addresses: [203.0.113.10]
	  ports: 1024-65535
	  port_alloc: preserve
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

generate() {
	local row=$1 d="$TMP/$1" args
	mkdir -p "$d"
	read -r -a args <<<"$(row_gen_args "$row")"
	"$GEN" -o "$d/in.pcap" -r "$d/out.pcap" "${args[@]}" --gw-mac "$GW_MAC" \
		--neighbors "$d/neighbors.yaml" 2>"$d/gen.err" >"$d/gen.out" || {
		cat "$d/gen.err" >&2
		die "egress-gen failed for row $row"
	}
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

# run_testpmd ROW MODE RUN: RESULT = the median Mpps, or "fail".
run_testpmd() {
	local row=$1 mode=$2 run=$3 d="$TMP/$1" in out mbufs size_args=() log pid
	read -r in out <"$d/npkts"
	vdev_args "$row"
	next_prefix
	mbufs=$((in + out + 32768))
	# 2176 B mbufs as egressd's, unless the loop does not fit the memory:
	# then 256 B ones (enough for 64 B frames; noted)
	if ! row_fits "$row"; then
		size_args=(--mbuf-size=256)
		NOTE_SMALL_MBUF=1
	fi
	log="$d/testpmd-$mode-$run.log"
	dpdk-testpmd -l "$LCORES" --no-pci --file-prefix "$PREFIX" "${MEM_ARGS[@]}" \
		"${VDEVS[@]}" -- --forward-mode="$mode" --stats-period 1 --no-lsc-interrupt \
		--burst=64 --total-num-mbufs="$mbufs" "${size_args[@]}" </dev/null >"$log" 2>&1 &
	pid=$!
	bench_track_pid "$pid"
	if ! bench_wait_for "$log" "Port statistics" "$pid" 300; then
		bench_stop_dpdk "$pid" KILL 2 "$PREFIX"
		RESULT=fail
		return 0
	fi
	# one block of Rx-pps lines (one per port) a second, the first partial:
	# killed once the last block measured is printed. Nothing of it outlives
	# it (its hugepage files are unlinked, its runtime folder removed here),
	# and SIGINT would take up to a second: testpmd looks at it only between
	# the one-second sleeps of its stats loop.
	bench_wait_for "$log" "Rx-pps" "$pid" $((WARMUP + SECONDS_MEASURED + 30)) \
		$((2 * (1 + WARMUP + SECONDS_MEASURED))) || true
	bench_stop_dpdk "$pid" KILL 5 "$PREFIX"
	RESULT=$(python3 - "$log" "$WARMUP" "$SECONDS_MEASURED" <<-'PY'
	import re
	import statistics
	import sys

	# one "Port statistics" block per second, one Rx-pps line per port
	blocks, cur = [], None
	for line in open(sys.argv[1], errors="replace"):
	    if "Port statistics" in line:
	        cur = []
	        blocks.append(cur)
	    m = re.search(r"Rx-pps:\s+(\d+)", line)
	    if m and cur is not None:
	        cur.append(int(m.group(1)))
	warm, n = int(sys.argv[2]), int(sys.argv[3])
	sums = [sum(b) for b in blocks[1 + warm:1 + warm + n] if len(b) == 2]
	print(f"{statistics.median(sums) / 1e6:.3f}" if sums else "fail")
	PY
	)
}

# run_egressd ROW RUN [obs]: RESULT = "Mpps cycles/pkt flows/s odd-drops
# bytes/flow loop-cycles/pkt", or "fail REASON". With obs: the config with
# /metrics and flow logs on, and /metrics scraped once a second meanwhile.
run_egressd() {
	local row=$1 run=$2 obs=${3:-} d="$TMP/$1" in out pid logo loge app_args=() res json
	local conf="$d/egressd.yaml" url=""
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
	next_prefix
	# egressd sizes its mbuf pool itself; a loop of more frames than the pool
	# holds cannot be replayed (net_pcap copies the loop into the port's pool
	# at set-up). An --mbufs option, once egressd has one, is used.
	if "$EGRESSD" --help 2>&1 | grep -q -- '--mbufs'; then
		app_args+=(--mbufs $((in + out + 16384)))
	fi
	logo="$d/egressd$obs-$run.out"
	loge="$d/egressd$obs-$run.err"
	"$EGRESSD" -l "$LCORES" --no-pci --file-prefix "$PREFIX" "${MEM_ARGS[@]}" "${VDEVS[@]}" \
		-- -c "$conf" --api-socket "$d/api.sock" "${app_args[@]}" </dev/null >"$logo" 2>"$loge" &
	pid=$!
	bench_track_pid "$pid"
	if ! bench_wait_for "$logo" '^egressd: ready' "$pid" 300; then
		bench_stop_dpdk "$pid" KILL 2 "$PREFIX"
		if grep -q "Not enough mbufs" "$loge"; then
			RESULT="fail pool"
		else
			RESULT="fail start"
		fi
		return 0
	fi
	bench_telemetry_cmd "$PREFIX"
	res=$("${BENCH_TELEMETRY_CMD[@]}" "$WARMUP" "$SECONDS_MEASURED" "$url" <<-'PY'
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
	) || res="fail telemetry"
	bench_stop_dpdk "$pid" TERM 30 "$PREFIX"
	json=$(grep '^{' "$logo" | tail -n 1 || true)
	if [[ "$res" == fail* || -z "$json" || "$BENCH_STOP_RC" != 0 ]]; then
		RESULT="fail run"
		return 0
	fi
	RESULT=$(python3 - "$json" "$res" "$row" <<-'PY'
	import json
	import sys

	o = json.loads(sys.argv[1])
	mpps, fps = sys.argv[2].split()
	row = sys.argv[3]
	rx = o["ports"]["inside"]["rx"] + o["ports"]["outside"]["rx"]
	expected = {"denied": {"policy_denied"}}.get(row, set())
	odd = {k: v for k, v in o["drops"].items() if v and k not in expected and v * 100 > rx}
	# per frame over the whole run (TSC): the pipeline's cycles (dp_process)
	# and the worker's whole loop (an egressd without it: n/a)
	loop = o.get("cycles_per_packet_loop")
	print(mpps, f"{o['cycles_per_packet']:.1f}", fps,
	      ",".join(f"{k}={v}" for k, v in sorted(odd.items())) or "-",
	      o.get("bytes_per_flow", "n/a"), "n/a" if loop is None else f"{loop:.1f}")
	PY
	)
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
	IFS=, read -r -a ROW_LIST <<<"$ROWS"
	for row in "${ROW_LIST[@]}"; do
		[[ -n "$(row_label "$row")" ]] || die "unknown row: $row (est1k, est1m, storm, denied)"
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
	               "telemetry": "no answer on the telemetry socket"}
	        for v in got.get(prog, []):
	            if v[0] == "fail":
	                fails.append(f"{name}: egressd {why.get(v[1], v[1])}")
	        for c in ceilings if prog == "egressd" else ():
	            if got.get("testpmd-" + c) and ceil[c] is None:
	                fails.append(f"{label}: testpmd {c} gave no rate (--keep for its log)")
	        e_mpps = med(v[0] for v in eg)
	        e_cpp = med(v[1] for v in eg)
	        e_fps = med(v[2] for v in eg) if row == "storm" else None
	        e_bpf = med(v[4] for v in eg if len(v) > 4)
	        e_loop = med(v[5] for v in eg if len(v) > 5)
	        odd = sorted({v[3] for v in eg if v[3] != "-"})
	        head_ratio = ratio(e_mpps, ceil.get(headline))
	        table.append([name, flows] + [fmt(ceil[c]) for c in ceilings] + [fmt(e_mpps),
	                     (fmt(head_ratio) + " of " + headline) if head_ratio is not None else "n/a"]
	                     + [fmt(ratio(e_mpps, ceil[c])) for c in ceilings]
	                     + [fmt(e_cpp, ".0f"), fmt(e_loop, ".0f"),
	                        si(e_fps) if row == "storm" else "-", fmt(e_bpf, ".0f")])
	        for o in odd:
	            fails.append(f"{name}: egressd drops over 1% of rx: {o}")

	# "ratio" (the headline) and "cycles/pkt" keep their names and meaning
	head = (["row", "flows"] + [f"testpmd {c} Mpps" for c in ceilings] + ["egressd Mpps", "ratio"]
	        + [f"/{c}" for c in ceilings]
	        + ["cycles/pkt", "loop cycles/pkt", "flows/s", "bytes/flow"])
	w = [max(len(str(r[i])) for r in table + [head]) for i in range(len(head))]
	print(f"egressd pcap-replay benchmark: -l 0,1 (1 worker), {mem}, net_pcap infinite_rx, "
	      f"64 B frames; median of {runs} run(s) of {secs} s after {warm} s warm-up")
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
