#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile input, as a CI gate: scripts/fuzz.sh builds the libFuzzer
# targets of tests/fuzz (clang, ASan + UBSan) and replays each target's whole
# seed corpus (pkt, sni, pipeline, yaml, config, istio, sync) and the reproducers of its
# past findings (tests/fuzz/crashes/), with every invariant checked (for the
# pipeline: multi-burst stories through the workers' poll loops, the
# invariants audited after every burst): deterministic, so CI fails on a
# regression and never on the luck of a random search. Exploring is
# `scripts/fuzz.sh SECONDS` (or FUZZ_SMOKE_SECONDS=N here: timed fuzzing).
# Checks, per target (one per folder of tests/fuzz/corpus): no finding, and
# at least as many inputs run as its seed corpus holds (fuzz.sh's summary).
#
# Exit: 0 no finding, 1 a finding (or a build failure), 77 skip (clang with
# libFuzzer cannot be installed; under CI=true, after scripts/install-deps.sh
# was given its chance, a failure: see lib.sh).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=$(mktemp /tmp/egressd-fuzz-smoke.XXXXXX)
trap 'rm -f "$OUT"' EXIT

# run_fuzz: scripts/fuzz.sh once; its stdout (the summary) also in OUT; sets rc.
run_fuzz() {
	rc=0
	if [[ -n "${FUZZ_SMOKE_SECONDS:-}" ]]; then
		what="${FUZZ_SMOKE_SECONDS}s of fuzzing per target"
		bash "$LIVE_REPO/scripts/fuzz.sh" "$FUZZ_SMOKE_SECONDS" | tee "$OUT" || rc=$?
	else
		# -runs=0: run the corpus, no mutation
		what="every seed-corpus input of every target"
		FUZZ_ARGS="-runs=0 ${FUZZ_ARGS:-}" bash "$LIVE_REPO/scripts/fuzz.sh" 60 | tee "$OUT" ||
			rc=$?
	fi
}

run_fuzz
# 77: clang with libFuzzer is missing and fuzz.sh could not install it
if ((rc == 77)) && live_install_deps; then
	run_fuzz
fi
((rc != 77)) || live_skip "clang with libFuzzer (clang, libclang-rt-dev)"

if ((rc != 0)); then
	live_fail "scripts/fuzz.sh exited $rc: a finding, or the targets did not build"
fi
for dir in "$LIVE_REPO"/tests/fuzz/corpus/*/; do
	t=$(basename "$dir")
	seeds=$(find "$dir" -maxdepth 1 -type f | wc -l)
	runs=$(sed -n -E "s/^fuzz_$t +ok +runs +([0-9]+) .*/\1/p" "$OUT")
	if [[ -n "$runs" ]] && ((runs >= seeds)); then
		live_pass "fuzz_$t: no finding in $runs inputs ($seeds seeds; $what)"
	else
		live_fail "fuzz_$t: no finding in at least its $seeds seeds (summary: ${runs:-no ok line})"
	fi
done
live_finish
