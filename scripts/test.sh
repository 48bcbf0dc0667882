#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every test of egressd; this is what CI (.ci/run) runs. As root:
#   1. install the Debian packages (scripts/install-deps.sh; fast when present);
#   2. lint (scripts/lint.sh);
#   3. build `build` and run the cmocka unit suite;
#   4. build `build-asan` (-Dsanitize=true: ASan + UBSan) and run the suite again;
#   5. run every tests/live/test_*.sh (network namespaces, veths, redis-server,
#      egressd on net_af_packet); each exits 0 (pass), 77 (skip) or else (fail).
# Ends with exactly one summary line, "N passed, N failed, N skipped", counting
# lint, each unit test program of each build and each live script (a build that
# fails counts as one failure), and exits non-zero if anything failed.
#
# Usage: scripts/test.sh
# Environment:
#   EGRESSD_BUILD_DIR       default build
#   EGRESSD_ASAN_BUILD_DIR  default build-asan
#   EGRESSD_SKIP_ASAN=1     leave out step 4 (quicker local runs)
#   LIVE_TIMEOUT            seconds allowed to one live script, default 600
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILD_DIR=${EGRESSD_BUILD_DIR:-build}
ASAN_BUILD_DIR=${EGRESSD_ASAN_BUILD_DIR:-build-asan}
LIVE_TIMEOUT=${LIVE_TIMEOUT:-600}

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
MAIN_BUILD_OK=0

banner() {
	echo
	echo "==> $*"
}

record() {
	local result=$1 name=$2
	case "$result" in
	pass) PASSED=$((PASSED + 1)) ;;
	skip)
		SKIPPED=$((SKIPPED + 1))
		echo "SKIP: $name"
		;;
	*)
		FAILED=$((FAILED + 1))
		FAILURES+=("$name")
		echo "FAIL: $name"
		;;
	esac
}

step_deps() {
	banner "dependencies"
	if ((EUID != 0)); then
		echo "not root: dependencies not checked, live tests will skip"
		return 0
	fi
	if ! bash scripts/install-deps.sh; then
		record fail "install-deps"
	fi
}

step_lint() {
	banner "lint"
	if bash scripts/lint.sh; then
		record pass lint
	else
		record fail lint
	fi
}

# Count the results of the last `meson test` in BUILDDIR, one per test program,
# from its machine-readable log. Prints "pass NAME", "fail NAME" or "skip NAME".
meson_results() {
	local builddir=$1
	python3 - "$builddir/meson-logs/testlog.json" <<'PY'
import json
import sys

try:
    fh = open(sys.argv[1], encoding="utf-8")
except OSError:
    sys.exit(0)
with fh:
    for line in fh:
        line = line.strip()
        if not line:
            continue
        try:
            t = json.loads(line)
        except ValueError:
            continue
        res = str(t.get("result", ""))
        res = res.split(".")[-1].upper()
        kind = {"OK": "pass", "EXPECTEDFAIL": "pass", "SKIP": "skip"}.get(res, "fail")
        print(kind, t.get("name", "?"), res)
PY
}

# build_and_unit LABEL BUILDDIR [MESON_ARGS...]
build_and_unit() {
	local label=$1 builddir=$2
	shift 2
	banner "build $builddir${*:+ ($*)}"
	if ! bash scripts/build.sh "$builddir" "$@"; then
		record fail "build $builddir"
		return 1
	fi

	banner "unit tests ($label)"
	local rc=0
	rm -f "$builddir/meson-logs/testlog.json"
	meson test -C "$builddir" --suite unit --print-errorlogs || rc=$?

	local kind name res counted=0 failed=0
	while read -r kind name res; do
		record "$kind" "unit $label: $name ($res)"
		counted=$((counted + 1))
		[[ "$kind" == fail ]] && failed=$((failed + 1))
	done < <(meson_results "$builddir")
	if ((rc != 0 && failed == 0)); then
		record fail "unit $label: meson test exited $rc"
	elif ((counted == 0)); then
		echo "unit $label: no test ran"
	fi
	return 0
}

step_unit() {
	if build_and_unit "$BUILD_DIR" "$BUILD_DIR"; then
		MAIN_BUILD_OK=1
	fi
}

step_unit_asan() {
	if [[ "${EGRESSD_SKIP_ASAN:-0}" == 1 ]]; then
		banner "ASan + UBSan build skipped (EGRESSD_SKIP_ASAN=1)"
		return 0
	fi
	# DPDK's EAL keeps its memory until exit without freeing it: leak reports
	# would be noise. Every other ASan / UBSan finding fails the test.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:abort_on_error=1:print_summary=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1} \
		build_and_unit asan "$ASAN_BUILD_DIR" -Dsanitize=true || true
}

step_live() {
	local scripts=() t name rc
	shopt -s nullglob
	scripts=(tests/live/test_*.sh)
	shopt -u nullglob
	banner "live tests (${#scripts[@]})"
	for t in "${scripts[@]}"; do
		name="live: $(basename "$t" .sh)"
		if ((!MAIN_BUILD_OK)); then
			record skip "$name (the build failed)"
			continue
		fi
		echo "--- $t"
		rc=0
		EGRESSD="$ROOT/$BUILD_DIR/app/egressd/egressd" \
			timeout -k 15 "$LIVE_TIMEOUT" bash "$t" </dev/null || rc=$?
		case "$rc" in
		0) record pass "$name" ;;
		77) record skip "$name" ;;
		124) record fail "$name (timed out after ${LIVE_TIMEOUT}s)" ;;
		*) record fail "$name (exit $rc)" ;;
		esac
	done
}

main() {
	local start=$SECONDS
	step_deps
	step_lint
	step_unit
	step_unit_asan
	step_live

	banner "summary ($((SECONDS - start)) s)"
	local f
	for f in "${FAILURES[@]}"; do
		echo "failed: $f"
	done
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	((FAILED == 0))
}

main "$@"
