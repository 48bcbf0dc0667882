#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The benchmark harness works (not how fast anything is): scripts/bench.sh
# --quick --seconds 1 --warmup 0 --no-build (on EGRESSD's build folder)
# generates the captures, runs dpdk-testpmd (io, 5tswap, csum) and egressd on
# net_pcap loops for every row (on virtio-user ports behind a vhost-user
# generator in the virtio row; reading 100 000 SYNs once in the read-once
# storm), and prints the table. Checks:
#   - bench.sh exits 0 and prints the table's header and every row, the
#     virtio and read-once ones included;
#   - every row has a number > 0 for testpmd io, 5tswap and csum, egressd
#     (Mpps), the ratio, the ratios to each ceiling (/io, /5tswap, /csum),
#     cycles/pkt, loop cycles/pkt (not in the read-once storm: its run idles
#     after the capture's end) and bytes/flow; both storm rows have
#     flows/s > 0;
#   - each /X is egressd Mpps over testpmd X Mpps (to the table's rounding),
#     and the headline ratio is /5tswap ("of 5tswap"), /io for all denied;
#   - loop cycles/pkt >= cycles/pkt (the worker's whole loop includes
#     dp_process());
#   - the virtio row says that egressd's TX TCP/UDP checksum offload was on
#     in every run, and what the generator offered;
#   - the hugepage count is what it was before.
# bench.sh --quick reserves 2 MiB hugepages and falls back to --no-huge when it
# cannot (its table then says so): the harness is tested either way.
#
# Exit: 0 pass, 1 fail, 77 skip (bench.sh cannot run here: not root, no
# dpdk-testpmd, no net_pcap PMD, fewer than 2 cores; under CI=true the tools
# are installed or the test fails, see lib.sh).
# Environment: EGRESSD (its build folder is the one bench.sh uses; default
#   <repo>/build/app/egressd/egressd), KEEP=1 keeps bench.sh's folder.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$LIVE_REPO
NAME=$(basename "$0" .sh)
TMP=""
HUGE_NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n "$TMP" && -d "$TMP" ]] && rm -rf "$TMP"
	exit "$rc"
}

main() {
	local build rc=0 before="" after="" keep=()
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# what bench.sh's bench_require asks for, so that CI installs it first
	live_require_root "hugepages, /var/run/dpdk"
	live_require_tool dpdk-testpmd python3 meson ninja
	live_require_net_pcap
	(($(nproc) >= 2)) || live_skip "needs 2 cores"
	live_require_built "$EGRESSD"
	TMP=$(mktemp -d /tmp/egressd-bench-smoke.XXXXXX)
	build=$(cd "$(dirname "$EGRESSD")/../.." && pwd)
	[[ "${KEEP:-0}" == 1 ]] && keep=(--keep)
	[[ -r "$HUGE_NR" ]] && before=$(cat "$HUGE_NR")

	# the suite built it already: no rebuild (nor a race with an edit); one
	# second measured, no warm-up (1 s in the virtio row): 24 programs
	# started in turn, and a generator for each of the virtio row's 4
	bash "$REPO/scripts/bench.sh" --quick --seconds 1 --warmup 0 --no-build --build-dir "$build" \
		--out "$TMP/bench.tsv" "${keep[@]}" >"$TMP/bench.out" 2>"$TMP/bench.err" || rc=$?
	cat "$TMP/bench.out"
	if ((rc == 77)); then
		live_skip "$(tail -n 1 "$TMP/bench.err")"
	fi
	[[ -r "$HUGE_NR" ]] && after=$(cat "$HUGE_NR")

	local brc=$rc
	rc=0
	python3 - "$TMP/bench.out" "$TMP/bench.tsv" "$brc" "$before" "$after" >"$TMP/checks" <<-'PY' || rc=$?
	import re
	import sys

	out_f, tsv_f, rc, before, after = sys.argv[1:6]
	fails = 0

	def check(ok, what):
	    global fails
	    print(("PASS: " if ok else "FAIL: ") + what)
	    fails += 0 if ok else 1

	def num(s):
	    s = s.split(" ")[0]
	    mult = {"k": 1e3, "M": 1e6}.get(s[-1:], 1)
	    try:
	        return float(s[:-1] if mult != 1 else s) * mult
	    except ValueError:
	        return None

	check(rc == "0", f"scripts/bench.sh --quick exits 0 (exit {rc})")
	out = open(out_f).read()
	check("row" in out and "egressd Mpps" in out and "testpmd csum Mpps" in out
	      and "loop cycles/pkt" in out, "bench.sh printed the table's header")
	want = ["established 1k", "established 1M", "new-flow storm", "all denied",
	        "established 1k virtio", "read-once storm"]
	try:
	    lines = [l.rstrip("\n").split("\t") for l in open(tsv_f)]
	except OSError:
	    lines = []
	head = lines[0] if lines else []
	rows = {l[0]: dict(zip(head, l)) for l in lines[1:] if len(l) == len(head)}
	for label in want:
	    r = rows.get(label)
	    if r is None or not any(l.startswith(label) for l in out.splitlines()):
	        check(False, f"row '{label}' in the table")
	        continue
	    ceilings = ["io", "5tswap", "csum"]
	    once = label == "read-once storm"
	    cols = ([f"testpmd {c} Mpps" for c in ceilings] + ["egressd Mpps", "ratio"]
	            + [f"/{c}" for c in ceilings] + ["cycles/pkt"]
	            + ([] if once else ["loop cycles/pkt"]) + ["bytes/flow"])
	    if label in ("new-flow storm", "read-once storm"):
	        cols.append("flows/s")
	    bad = [c for c in cols if not (num(r.get(c, "")) or 0) > 0]
	    check(not bad, f"row '{label}' has numbers > 0 for {', '.join(cols)}"
	          + (f"; not: {', '.join(f'{c}={r.get(c)}' for c in bad)}" if bad else ""))
	    if bad:
	        continue
	    # the table prints 2 decimals: the quotient of the printed figures e / c
	    # is off by the rounding of e and c (0.005 each) and of the ratio
	    def off(q, e, c):
	        return abs(q - e / c) > 0.005 + (0.005 + 0.005 * e / c) / (c - 0.005) + 1e-9

	    eg = num(r["egressd Mpps"])
	    wrong = [f"/{c}={r['/' + c]} (egressd {eg} / {num(r[f'testpmd {c} Mpps'])})"
	             for c in ceilings
	             if off(num(r["/" + c]), eg, num(r[f"testpmd {c} Mpps"]))]
	    check(not wrong, f"row '{label}': /io, /5tswap, /csum are egressd over that ceiling"
	          + (f"; not: {', '.join(wrong)}" if wrong else ""))
	    head_c = "io" if label == "all denied" else "5tswap"
	    check(r["ratio"] == f"{r['/' + head_c]} of {head_c}",
	          f"row '{label}': the headline ratio is /{head_c} ({r['ratio']!r})")
	    if not once:
	        check(num(r["loop cycles/pkt"]) >= num(r["cycles/pkt"]),
	              f"row '{label}': loop cycles/pkt {r['loop cycles/pkt']} >= cycles/pkt "
	              f"{r['cycles/pkt']}")
	# the virtio row's notes: TX checksum offload on in every run, and the
	# generator's figures (read / taken by the DUT's rings) for every DUT
	m = re.search(r"^note: established 1k virtio: egressd's TX TCP/UDP checksum offload "
	              r"\(its log, both virtio-user ports\): on in (\d+) of (\d+) run", out, re.M)
	check(m is not None and m.group(1) == m.group(2) and int(m.group(2)) > 0,
	      "virtio row: egressd's TX TCP/UDP checksum offload on in every run"
	      + (f" ({m.group(0)})" if m else " (no such note)"))
	m = re.search(r"^note: established 1k virtio: the generator read / the DUT's rings took, "
	              r"Mpps: (.*)$", out, re.M)
	pairs = re.findall(r"(\w+) ([0-9.]+)/([0-9.]+)", m.group(1)) if m else []
	check(sorted(p[0] for p in pairs) == sorted(["io", "5tswap", "csum", "egressd"])
	      and all(float(p[1]) > 0 and float(p[2]) > 0 for p in pairs),
	      "virtio row: the generator's figures for every DUT, > 0"
	      + (f" ({m.group(1)})" if m else " (no such note)"))
	# the pipeline alone (bench-pipeline) under the table: every flow of
	# the row made, nothing dropped, the figures in order
	pipe = {"established 1k": "1000", "new-flow storm": None, "all denied": "0",
	        "read-once storm": None}
	for label, flows in pipe.items():
	    m = re.search(rf"^note: {label}: pipeline alone \(bench-pipeline, cycles/frame\): "
	                  r"median ([0-9.]+) p10 ([0-9.]+) p90 ([0-9.]+) min ([0-9.]+) mean [0-9.]+ "
	                  r"flows_created (\d+)(.*)$", out, re.M)
	    ok = m is not None and 0 < float(m.group(4)) <= float(m.group(2)) <= \
	        float(m.group(1)) <= float(m.group(3))
	    if ok and flows is not None:
	        ok = m.group(5) == flows
	    if ok and label != "all denied":
	        ok = "drop:" not in m.group(6)
	    if ok and label == "read-once storm":
	        ok = re.search(r"new_flows/s [0-9.]+M", m.group(6)) is not None
	    check(ok, f"{label}: the pipeline alone: min <= p10 <= median <= p90, "
	          + (f"{flows} flows, " if flows else "") + "no drop"
	          + (f" ({m.group(0)})" if m else " (no such note)"))
	if before:
	    check(before == after, f"2 MiB hugepages back to {before} (now {after})")
	sys.exit(1 if fails else 0)
	PY
	cat "$TMP/checks"
	if ((rc != 0)); then
		echo "----- bench.sh stderr (last 40 lines)"
		tail -n 40 "$TMP/bench.err"
		echo "FAIL: $NAME (the checks exited $rc)"
		exit 1
	fi
	# the summary scripts/test.sh reads: one check per PASS line above
	echo "PASS: $NAME: $(grep -c '^PASS: ' "$TMP/checks") checks"
}

main "$@"
