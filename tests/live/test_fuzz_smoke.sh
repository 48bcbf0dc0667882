#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Issue 6, hostile input, as a CI gate: scripts/fuzz.sh builds the libFuzzer
# targets of tests/fuzz (clang, ASan + UBSan) and replays each target's whole
# seed corpus (pkt, pipeline, yaml, config, istio), the regressions of every
# finding included, with every invariant checked: deterministic, so CI fails
# on a regression and never on the luck of a random search. Exploring is
# `scripts/fuzz.sh SECONDS` (or FUZZ_SMOKE_SECONDS=N here: timed fuzzing).
#
# Exit: 0 no finding, 1 a finding (or a build failure), 77 skip (clang with
# libFuzzer cannot be installed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rc=0
if [[ -n "${FUZZ_SMOKE_SECONDS:-}" ]]; then
	SECS=$FUZZ_SMOKE_SECONDS
	what="${SECS}s of fuzzing per target"
	bash "$ROOT/scripts/fuzz.sh" "$SECS" || rc=$?
else
	# -runs=0: run the corpus, no mutation
	SECS=60
	what="every seed-corpus input of every target"
	FUZZ_ARGS="-runs=0 ${FUZZ_ARGS:-}" bash "$ROOT/scripts/fuzz.sh" "$SECS" || rc=$?
fi
case "$rc" in
0) echo "fuzz smoke: no finding in $what" ;;
77) echo "fuzz smoke: skipped (no clang with libFuzzer)" ;;
*)
	echo "fuzz smoke: FAILED (scripts/fuzz.sh exited $rc)"
	rc=1
	;;
esac
exit "$rc"
