#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# "16 M concurrent flows fit and work", shown without a NIC. One
# egressd (one worker, 2 MiB hugepages reserved here, flows.max 16 Mi) reads
# two captures once through net_pcap vdevs and exits by itself once both are
# consumed (--exit-when-idle):
#
#   inside   egress-gen -m established -n 16Mi --data 1 --dst 10.59.118.0/23:
#            every flow's SYN (the SYN pass), then one data segment per flow
#            that also ACKs the server's SYN-ACK (the data pass);
#   outside  frame i answers inside frame i: the SYN-ACK of flow i, then the
#            server's data segment of flow i, addressed to the NAT address
#            and the client's own port (nat.port_alloc: preserve).
#
# Ordering: egressd's worker polls the inside queue, then the outside one,
# DP_BURST_MAX (64) frames each, and net_pcap reads a file queue as fast as
# it is polled; frame i of both captures belongs to the same flow, so every
# SYN is processed in the same loop as its SYN-ACK, just before it. A reply
# that overtook its SYN would be dropped and counted (flowless drop), and
# the checks below would fail: nothing is assumed. The SYN pass fills the
# table: after it all 16 Mi flows are in it at once (embryonic, so
# flows.embryonic_max is flows.max), the data pass makes them ESTABLISHED,
# and they are all still there when egressd exits (its final JSON's
# flows_active). /egress/stats is sampled every 0.2 s meanwhile on the
# telemetry socket: peak flows_active, fill rate, hugepages mapped.
#
# "Work": both ports also write what egressd transmits (net_pcap tx_pcap),
# and app/bench/verify-nat-pcap (built with the rest; its top comment has the
# details) compares every transmitted frame with the frame it came from: the
# client's frames source-NATed to 203.0.113.10 with the client's port, to the
# gateway's MAC; every reply translated back to its client's address, port
# and MAC; TTL one less, everything else as received up to the IPv4 length,
# zero padding to 60 bytes only (the 58-byte SYNs and SYN-ACKs), IPv4 and TCP
# checksums valid, nothing else sent. --no-verify drops the tx captures (half
# the disk, a faster worker).
#
# Config besides flows.max: embryonic_max = flows.max (the SYN pass holds
# every flow embryonic), flows.timeouts.transitory 1h (the client's ACK of
# flow i comes a whole SYN pass after its SYN, an artifact of the replay),
# tcp_liberal false (a single pass is consistent in sequence space; --liberal
# relaxes it), 64 clients as static neighbours, one NAT address, port_alloc
# preserve, one ServiceEntry for --dst port 6379. NAT ports are unique per
# (NAT address, destination, port): 16 Mi flows over the 510 hosts of a /23
# use client (= NAT) ports 1024..33920 per destination.
#
# Usage: scripts/bench-16m.sh [--flows N] [--data N] [--dst CIDR] [--build-dir DIR]
#                             [--no-build] [--huge-mb MB] [--idle-ms MS] [--timeout S]
#                             [--no-verify] [--liberal] [--keep]
#   --flows N      flows (16777216; k M Ki Mi as egress-gen); flows.max and
#                  embryonic_max are N (at least 1024)
#   --data N       data segments per flow each way (1; 0: handshake only,
#                  the flows stay embryonic)
#   --dst CIDR     destinations, allowed by the ServiceEntry (10.59.118.0/23)
#   --build-dir    (build-16m) configured with -Dtests=false, built with
#                  scripts/build.sh (egressd, egress-gen and the checker,
#                  app/bench/verify-nat-pcap); --no-build uses it as it is
#   --huge-mb MB   2 MiB hugepages to have free for egressd (default: the
#                  flow table at 108 B/flow + the embryonic FIFO + 512)
#   --idle-ms MS   egressd's --exit-when-idle (3000)
#   --timeout S    stop egressd (SIGTERM) if it has not exited after S s (1800)
#   --no-verify    no tx captures, counters only
#   --liberal      flows.tcp_liberal: true
#   --keep         keep the temporary folder (captures, config, logs)
# Captures go to a folder made by mktemp -d under $TMPDIR (/tmp): about
# 2.5 GB per capture at 16 Mi flows and --data 1, four captures with the
# verification; removed on exit unless --keep.
# Hugepages: the 2 MiB page count is only raised, by what is missing, and
# lowered by the same number on exit (relative, so that other DPDK users
# reserving pages meanwhile keep theirs); egressd maps them from a private
# hugetlbfs mount (--huge-dir, --huge-unlink). Only processes started here
# are stopped, by PID.
# About 100 s at 16 Mi flows on a 2-core VM (e3399e1: captures 16 s, egressd
# start-up 10 s, the replay 51 s, the check 11 s), 2 GiB of hugepages mapped.
# Exit: 0 all checks passed, 1 a check failed (or egressd failed), 2 usage,
# 77 cannot run here (not root, no net_pcap PMD, no python3/meson/ninja).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

FLOWS_ARG=16777216
DATA=1
DST=10.59.118.0/23
BUILD_DIR=build-16m
NO_BUILD=0
HUGE_MB=""
IDLE_MS=3000
TIMEOUT_S=1800
VERIFY=1
LIBERAL=false
KEEP=0

LCORES=0,1
GW_MAC=02:00:cb:00:71:01
NAT_ADDR=203.0.113.10
DPORT=6379
HUGE_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB
TMP=""
PREFIX="eg16m$$"

# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
log() { bench_log bench-16m "$@"; }
die() { bench_die bench-16m "$@"; }
skip() { bench_skip bench-16m "$@"; }
usage() { bench_usage "$ROOT/scripts/bench-16m.sh"; }

now() {
	date +%s.%N
}

# the EXIT trap (bench-lib.sh)
cleanup() {
	bench_cleanup bench-16m "$TMP" "$KEEP" "$PREFIX"
}

# --- set-up -----------------------------------------------------------------

# count N: egress-gen's suffixes (k M Ki Mi) to a number
count() {
	local n=${1%%[!0-9]*} s=${1##*[0-9]}
	[[ -n "$n" && "$1" == "$n$s" ]] || return 1
	case "$s" in
	"") echo "$n" ;;
	k | K) echo $((n * 1000)) ;;
	M) echo $((n * 1000000)) ;;
	Ki) echo $((n * 1024)) ;;
	Mi) echo $((n * 1048576)) ;;
	*) return 1 ;;
	esac
}

parse_args() {
	while (($# > 0)); do
		case "$1" in
		--flows) FLOWS_ARG=$2; shift ;;
		--data) DATA=$2; shift ;;
		--dst) DST=$2; shift ;;
		--build-dir) BUILD_DIR=$2; shift ;;
		--no-build) NO_BUILD=1 ;;
		--huge-mb) HUGE_MB=$2; shift ;;
		--idle-ms) IDLE_MS=$2; shift ;;
		--timeout) TIMEOUT_S=$2; shift ;;
		--no-verify) VERIFY=0 ;;
		--liberal) LIBERAL=true ;;
		--keep) KEEP=1 ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	FLOWS=$(count "$FLOWS_ARG") || { usage >&2; exit 2; }
	((FLOWS >= 1 && FLOWS <= 16777216)) || die "--flows: 1..16777216 (egress-gen's limit)"
	FLOWS_MAX=$((FLOWS < 1024 ? 1024 : FLOWS))
	[[ "$DATA" =~ ^[0-9]+$ && "$IDLE_MS" =~ ^[1-9][0-9]*$ && "$TIMEOUT_S" =~ ^[1-9][0-9]*$ ]] ||
		die "--data, --idle-ms, --timeout: whole numbers"
	[[ -z "$HUGE_MB" || "$HUGE_MB" =~ ^[1-9][0-9]*$ ]] || die "--huge-mb: a number of MiB"
	[[ "$DST" =~ ^[0-9.]+/[0-9]+$ ]] || die "--dst: a CIDR prefix, e.g. 10.59.118.0/23"
}

require() {
	bench_require bench-16m "$LCORES" python3 meson ninja
	[[ -w "$HUGE_SYSFS/nr_hugepages" ]] || skip "no 2 MiB hugepages ($HUGE_SYSFS)"
	# the interpreter itself: a shim (pyenv) can take seconds to start the
	# sampler under load
	PYTHON=$(python3 -c 'import sys; print(sys.executable)')
}

build() {
	bench_build bench-16m "$BUILD_DIR" "$NO_BUILD" "$TMP/build.log" -Dtests=false
	EGRESSD=$BENCH_BUILD_DIR/app/egressd/egressd
	GEN=$BENCH_BUILD_DIR/app/gen/egress-gen
	VERIFY_BIN=$BENCH_BUILD_DIR/app/bench/verify-nat-pcap
	[[ -x "$EGRESSD" && -x "$GEN" ]] || die "$EGRESSD or $GEN not built"
	((!VERIFY)) || [[ -x "$VERIFY_BIN" ]] || die "$VERIFY_BIN not built (--no-verify to do without)"
}

# Frames per capture, and what the captures take on disk (76 B a record).
check_disk() {
	local frames=$((FLOWS * (1 + DATA))) files=$((2 + 2 * VERIFY)) need avail
	need=$((frames * 76 * files / 1048576 + 1024))
	avail=$(df -Pm "$TMP" | awk 'NR == 2 {print $4}')
	((avail >= need)) || die "$TMP: $avail MiB free, the captures need about $need MiB"
	log "captures: $files x $frames frames, about $((frames * 76 / 1048576)) MiB each" \
		"($avail MiB free in $(df -P "$TMP" | awk 'NR == 2 {print $6}'))"
}

generate() {
	local t0 t1
	t0=$(now)
	"$GEN" -o "$TMP/in.pcap" -r "$TMP/out.pcap" -m established -n "$FLOWS" --data "$DATA" \
		--dst "$DST" --dport "$DPORT" --gw-mac "$GW_MAC" --neighbors "$TMP/neighbors.yaml" \
		>"$TMP/gen.out" 2>"$TMP/gen.err" || {
		cat "$TMP/gen.err" >&2
		die "egress-gen failed"
	}
	t1=$(now)
	GEN_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
	IN_PKTS=$(sed -n 's/.* inside=[^ ]* packets=\([0-9]*\) .*/\1/p' "$TMP/gen.out")
	OUT_PKTS=$(sed -n 's/.* outside=[^ ]* packets=\([0-9]*\) .*/\1/p' "$TMP/gen.out")
	[[ -n "$IN_PKTS" && -n "$OUT_PKTS" ]] || die "cannot read egress-gen's summary: $(cat "$TMP/gen.out")"
	log "$(sed 's/^egress-gen: //' "$TMP/gen.out")"
	log "generated in ${GEN_SECONDS} s: in.pcap $(du -h "$TMP/in.pcap" | cut -f1)," \
		"out.pcap $(du -h "$TMP/out.pcap" | cut -f1)"
}

write_config() {
	mkdir -p "$TMP/policy"
	cat >"$TMP/policy/memorystore-16m.yaml" <<-EOF
	# The Memorystore allowlist widened to $DST, so that $FLOWS flows
	# fit with preserved NAT ports (one per destination and client port).
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata:
	  name: memorystore-16m
	spec:
	  hosts:
	  - memorystore.bench.internal
	  addresses:
	  - $DST
	  ports:
	  - number: $DPORT
	    name: tcp-redis
	    protocol: TCP
	  location: MESH_EXTERNAL
	  resolution: NONE
	EOF
	cat >"$TMP/egressd.yaml" <<-EOF
	# scripts/bench-16m.sh: $FLOWS flows held at once
	ports:
	  inside:  { device: "net_pcap0", address: 10.8.0.1/16,
	             neighbors: $(cat "$TMP/neighbors.yaml") }
	  outside: { device: "net_pcap1", address: $NAT_ADDR/24, gateway: 203.0.113.1,
	             neighbors: { 203.0.113.1: "$GW_MAC" } }
	nat:
	  addresses: [$NAT_ADDR]
	  ports: 1024-65535
	  port_alloc: preserve
	policy:
	  outbound: REGISTRY_ONLY
	  deny: drop
	  sources: [policy/]
	flows:
	  max: $FLOWS_MAX
	  embryonic_max: $FLOWS_MAX
	  timeouts: { transitory: 1h }
	  tcp_liberal: $LIBERAL
	workers: 1
	EOF
	"$EGRESSD" --check -c "$TMP/egressd.yaml" >"$TMP/check.out" 2>"$TMP/check.err" || {
		cat "$TMP/check.err" >&2
		die "egressd --check rejects the config"
	}
}

# What egressd maps: the flow table (108 B a flow, heads rounded up to a
# power of two included), the embryonic FIFO (8 B x the power of two above
# twice embryonic_max), the mbuf pool and the rest (512).
size_hugepages() {
	local emb
	[[ -n "$HUGE_MB" ]] && return 0
	emb=1
	while ((emb < 2 * FLOWS_MAX)); do
		emb=$((emb * 2))
	done
	HUGE_MB=$((FLOWS_MAX * 108 / 1048576 + emb * 8 / 1048576 + 512))
}

reserve_hugepages() {
	bench_hugepages_raise bench-16m $((HUGE_MB / 2)) ||
		die "only $BENCH_HUGE_FREE free 2 MiB hugepages, $((HUGE_MB / 2)) wanted (--huge-mb)"
	bench_hugetlbfs_mount /tmp/egressd-16m-huge.XXXXXX || die "cannot mount hugetlbfs"
}

# The sampler, started with egressd: /egress/stats and /eal/heap_info,0 on
# the telemetry socket, and the hugetlb pages egressd maps (smaps_rollup),
# every 0.2 s until the socket closes. One JSON object a line.
start_sampler() {
	bench_telemetry_cmd "$PREFIX" "$PYTHON"
	"${BENCH_TELEMETRY_CMD[@]}" "$1" >"$TMP/samples.jsonl" 2>"$TMP/sampler.err" <<-'PY' &
	import json
	import sys
	import time

	import egress_telemetry

	path, pid = sys.argv[1], sys.argv[2]
	s = egress_telemetry.connect(path, 60)
	if s is None:
	    sys.exit("no telemetry socket")

	def ask(cmd):
	    return egress_telemetry.ask(s, cmd).get(cmd.split(",")[0])

	def hugetlb_kb():
	    kb = 0
	    try:
	        for line in open(f"/proc/{pid}/smaps_rollup"):
	            if "Hugetlb:" in line:
	                kb += int(line.split()[1])
	    except OSError:
	        return None
	    return kb

	while True:
	    try:
	        t = time.time()
	        st = ask("/egress/stats")
	        heap = ask("/eal/heap_info,0")
	    except (OSError, ValueError):
	        break
	    if not isinstance(st, dict):
	        # EAL is up, /egress/stats not registered yet
	        time.sleep(0.1)
	        continue
	    print(json.dumps({"t": t, "stats": st, "heap": heap, "hugetlb_kb": hugetlb_kb()}),
	          flush=True)
	    time.sleep(0.2)
	PY
	SAMPLER_PID=$!
	bench_track_pid "$SAMPLER_PID"
}

run_egressd() {
	local vin="net_pcap0,rx_pcap=$TMP/in.pcap" vout="net_pcap1,rx_pcap=$TMP/out.pcap" pid
	if ((VERIFY)); then
		vin+=",tx_pcap=$TMP/tx-in.pcap"
		vout+=",tx_pcap=$TMP/tx-out.pcap"
	fi
	log "egressd: $FLOWS_MAX flows max, ${HUGE_MB} MiB of hugepages, -l $LCORES," \
		"--exit-when-idle $IDLE_MS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	T_START=$(now)
	"$EGRESSD" -l "$LCORES" --no-pci --file-prefix "$PREFIX" --huge-dir "$BENCH_HUGE_DIR" \
		--huge-unlink --vdev "$vin" --vdev "$vout" \
		-- -c "$TMP/egressd.yaml" --exit-when-idle "$IDLE_MS" \
		</dev/null >"$TMP/egressd.out" 2>"$TMP/egressd.err" &
	pid=$!
	bench_track_pid "$pid"
	start_sampler "$pid"
	if ! bench_wait_for "$TMP/egressd.out" '^egressd: ready' "$pid" 600; then
		bench_stop_pid "$pid" KILL 2
		tail -n 20 "$TMP/egressd.err" "$TMP/egressd.out" >&2
		die "egressd did not start (exit status $BENCH_STOP_RC)"
	fi
	T_READY=$(now)
	log "egressd ready after $(awk -v a="$T_START" -v b="$T_READY" 'BEGIN {printf "%.1f", b - a}') s"
	EGRESSD_TIMED_OUT=0
	if ! bench_wait_exit "$pid" "$TIMEOUT_S"; then
		EGRESSD_TIMED_OUT=1
		log "egressd still running after $TIMEOUT_S s: SIGTERM"
		bench_stop_pid "$pid" TERM 60
	else
		bench_stop_pid "$pid" TERM 0
	fi
	EGRESSD_RC=$BENCH_STOP_RC
	T_END=$(now)
	bench_stop_pid "$SAMPLER_PID" TERM 5
	rm -rf "/var/run/dpdk/$PREFIX"
}

# --- main -------------------------------------------------------------------

main() {
	local verify_rc=-1 t0
	parse_args "$@"
	require
	bench_traps cleanup
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/egressd-16m.XXXXXX")
	build
	check_disk
	generate
	write_config
	size_hugepages
	reserve_hugepages
	LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
	REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
	run_egressd
	if ((VERIFY)); then
		log "checking every transmitted frame"
		t0=$(now)
		verify_rc=0
		"$VERIFY_BIN" --nat-addr "$NAT_ADDR" --gw-mac "$GW_MAC" "$TMP/in.pcap" "$TMP/out.pcap" \
			"$TMP/tx-in.pcap" "$TMP/tx-out.pcap" >"$TMP/verify.out" 2>"$TMP/verify.err" ||
			verify_rc=$?
		cat "$TMP/verify.err" >&2
		log "checked in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"
	fi

	grep '^{' "$TMP/egressd.out" | tail -n 1 >"$TMP/final.json" || true
	"$PYTHON" - "$TMP" "$FLOWS" "$IN_PKTS" "$OUT_PKTS" "$DATA" "$EGRESSD_RC" \
		"$EGRESSD_TIMED_OUT" "$T_START" "$T_READY" "$T_END" "$GEN_SECONDS" "$HUGE_MB" \
		"$verify_rc" "$LOAD_START" "$IDLE_MS" "$REV" <<-'PY'
	import json
	import os
	import sys

	(tmp, flows, in_pkts, out_pkts, data, rc, timed_out, t_start, t_ready, t_end, gen_s,
	 huge_mb, verify_rc, load, idle_ms, rev) = sys.argv[1:]
	flows, in_pkts, out_pkts, data, rc = int(flows), int(in_pkts), int(out_pkts), int(data), int(rc)
	t_start, t_ready, t_end = float(t_start), float(t_ready), float(t_end)
	verify_rc = int(verify_rc)

	final = None
	try:
	    final = json.loads(open(f"{tmp}/final.json").read() or "null")
	except ValueError:
	    pass
	samples = []
	for line in open(f"{tmp}/samples.jsonl"):
	    try:
	        samples.append(json.loads(line))
	    except ValueError:
	        pass

	def si(v):
	    return f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k"

	checks = []

	def check(ok, text):
	    checks.append((ok, text))

	mi = flows / 1048576
	print(f"egressd {flows} flows ({mi:g} Mi) test: 1 worker (-l 0,1), 2 MiB hugepages, "
	      f"net_pcap read once, {data} data segment(s) each way per flow; "
	      f"tree {rev}; load average {load} at the start")
	print(f"  captures: {in_pkts} + {out_pkts} frames, written in {gen_s} s")
	print(f"  egressd: ready after {t_ready - t_start:.1f} s, exited {t_end - t_ready:.1f} s "
	      f"after ready (of which {int(idle_ms) / 1000:g} s idle before exiting), "
	      f"exit status {rc}{' (timed out: SIGTERM)' if timed_out == '1' else ''}")

	# the fill: flows_created against time, telemetry samples
	peak = max((s["stats"]["flows_active"] for s in samples), default=0)
	t_full = next((s["t"] for s in samples if s["stats"]["flows_active"] >= flows), None)
	filling = [s for s in samples if 0 < s["stats"]["flows_created"] < flows]
	if t_full is not None:
	    print(f"  fill: flows_active reached {flows} {max(t_full - t_ready, 0):.1f} s after "
	          f"ready (sampled every 0.2 s; {len(samples)} samples)")
	if len(filling) >= 2 and filling[-1]["t"] - filling[0]["t"] >= 1:
	    a, b = filling[0], filling[-1]
	    rate = (b["stats"]["flows_created"] - a["stats"]["flows_created"]) / (b["t"] - a["t"])
	    print(f"  fill rate: {si(rate)} flows/s (flows_created slope over the SYN pass; each "
	          "flow is a SYN in and a SYN-ACK back)")
	else:
	    print("  fill rate: not measured (the table filled within a second of sampling)")
	total = in_pkts + out_pkts
	t_all = next((s["t"] for s in samples
	              if s["stats"]["inside"]["rx"] + s["stats"]["outside"]["rx"] >= total), None)
	if t_all is not None and t_full is not None and t_all - t_full >= 1:
	    print(f"  all {total} frames received {t_all - t_ready:.1f} s after ready; after the "
	          f"fill {(total - 2 * flows) / (t_all - t_full) / 1e6:.2f} Mpps (the data pass, "
	          "every flow in the table)")
	hug = [s["hugetlb_kb"] for s in samples if s.get("hugetlb_kb")]
	heaps = [s["heap"] for s in samples if isinstance(s.get("heap"), dict)]
	mem = []
	if hug:
	    mem.append(f"{max(hug) / 1024:.0f} MiB of 2 MiB hugepages mapped by egressd")
	if heaps:
	    # the biggest: the last samples may follow egressd's teardown
	    h = max(heaps, key=lambda x: int(x.get("Alloc_size", 0)))
	    if "Alloc_size" in h:
	        mem.append(f"DPDK heap {int(h.get('Heap_size', 0)) / 1048576:.0f} MiB, "
	                   f"{int(h['Alloc_size']) / 1048576:.0f} MiB allocated")
	mem.append(f"{huge_mb} MiB reserved for it")
	print("  memory: " + "; ".join(mem))

	if final is None:
	    print("  final JSON: none (egressd did not stop cleanly)")
	    check(False, "egressd printed its final counters")
	else:
	    p = final["ports"]
	    drops = {k: v for k, v in final["drops"].items() if v}
	    print(f"  final: flows_created {final['flows_created']}, flows_active at exit "
	          f"{final['flows_active']}, peak flows_active {max(peak, final['flows_active'])}, "
	          f"flows_expired {final['flows_expired']}, embryonic_evicted "
	          f"{final['embryonic_evicted']}")
	    print(f"  ports: inside rx {p['inside']['rx']} tx {p['inside']['tx']} dropped "
	          f"{p['inside']['dropped']}; outside rx {p['outside']['rx']} tx "
	          f"{p['outside']['tx']} dropped {p['outside']['dropped']}")
	    print("  drops: " + (", ".join(f"{k} {v}" for k, v in sorted(drops.items())) or "none"))
	    print(f"  bytes_per_flow {final['bytes_per_flow']} (x {flows} = "
	          f"{final['bytes_per_flow'] * flows / 2**30:.2f} GiB: flow table and embryonic "
	          f"FIFO), "
	          f"cycles_per_packet {final['cycles_per_packet']}")
	    peak = max(peak, final["flows_active"])
	    check(final["flows_created"] == flows, f"flows_created == {flows}")
	    check(peak >= flows, f"flows_active reached {flows}")
	    check(final["flows_active"] == flows, f"all {flows} flows still in the table at exit")
	    check(p["inside"]["rx"] == in_pkts and p["outside"]["rx"] == out_pkts,
	          "every frame of both captures received")
	    check(p["outside"]["tx"] == in_pkts, "every client frame forwarded (outside tx)")
	    check(p["inside"]["tx"] == out_pkts,
	          "every reply forwarded back to the inside (inside tx)")
	    check(not drops and final["flows_expired"] == 0 and final["embryonic_evicted"] == 0
	          and p["inside"]["dropped"] == 0 and p["outside"]["dropped"] == 0,
	          "no drop, no expiry, no eviction")
	check(rc == 0 and timed_out == "0", "egressd exited 0 by itself (--exit-when-idle)")
	if verify_rc >= 0:
	    for line in open(f"{tmp}/verify.out"):
	        print("  " + line.rstrip())
	    check(verify_rc == 0, "every transmitted frame translated correctly (tx captures)")
	print(f"  wall time: {t_end - t_start:.1f} s egressd (start to exit)")
	for ok, text in checks:
	    print(f"{'PASS' if ok else 'FAIL'}: {text}")
	sys.exit(0 if all(ok for ok, _ in checks) else 1)
	PY
}

main "$@"
