#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Issue 6, hostile input: a CI-sized fuzzing smoke. scripts/fuzz.sh builds the
# libFuzzer targets of tests/fuzz (clang, ASan + UBSan) and runs each of them
# (pkt, pipeline, yaml, config, istio) for FUZZ_SMOKE_SECONDS (default 20) on
# its seed corpus: about 2 minutes with the build. Findings stay in
# FUZZ_OUT (default fuzz-out/) with their replay commands.
#
# Exit: 0 no finding, 1 a finding (or a build failure), 77 skip (clang with
# libFuzzer cannot be installed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECS=${FUZZ_SMOKE_SECONDS:-20}

rc=0
bash "$ROOT/scripts/fuzz.sh" "$SECS" || rc=$?
case "$rc" in
0) echo "fuzz smoke: no finding in ${SECS}s per target" ;;
77) echo "fuzz smoke: skipped (no clang with libFuzzer)" ;;
*)
	echo "fuzz smoke: FAILED (scripts/fuzz.sh exited $rc)"
	rc=1
	;;
esac
exit "$rc"
