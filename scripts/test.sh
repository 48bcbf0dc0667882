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
# A runner that ran nothing fails, it does not pass:
#   - a unit program passes only when meson says OK and its cmocka report says
#     N >= 1 tests run and N passed ("[==========] N test(s) run.",
#     "[  PASSED  ] N test(s)."); every test of the unit suite that
#     `meson introspect --tests` lists must be in meson's log;
#   - a live script passes only when it exits 0, prints no "FAIL: " line and
#     ends with "PASS: NAME: N checks", N >= 1 and one "PASS: " line per check.
# Under CI=true (as .ci/run is run) nothing may skip: a skip counts as a
# failure, and the live tests install what they miss (tests/live/lib.sh).
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
	# CI is where everything must run: there a skip hides a missing test
	if [[ "$result" == skip && "${CI:-}" == true ]]; then
		result=fail
		name="$name (skipped, and CI=true allows no skip)"
	fi
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
		echo "not root: dependencies not checked, live tests will skip" \
			"(under CI=true: fail)"
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

# The results of the last `meson test --suite unit` in BUILDDIR, one line per
# test program: "pass|fail|skip NAME DETAIL", from meson's JSON log and each
# program's cmocka report in it. Exits non-zero if the log cannot be read.
meson_results() {
	local builddir=$1
	python3 - "$builddir" <<'PY'
import json
import re
import subprocess
import sys

builddir = sys.argv[1]
# cmocka's standard report (CMOCKA_MESSAGE_OUTPUT unset); one block per group
RUN = re.compile(r"^\[==========\] (\d+) test\(s\) run\.$", re.M)
PASSED = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.$", re.M)
SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) test\(s\)", re.M)

intro = subprocess.run(["meson", "introspect", builddir, "--tests"], check=True,
                       capture_output=True, text=True).stdout
expected = [t["name"] for t in json.loads(intro)
            if any(s == "unit" or s.endswith(":unit") for s in t.get("suite", []))]
seen = set()
try:
    with open(f"{builddir}/meson-logs/testlog.json", encoding="utf-8") as fh:
        log = fh.readlines()
except FileNotFoundError:
    log = []  # meson ran no test: every expected one is reported below
for line in log:
    if not line.strip():
        continue
    t = json.loads(line)
    # "ctl", or "egressd:unit / ctl" when the project has several suites
    name = str(t.get("name", "?")).rsplit(" / ", 1)[-1]
    seen.add(name)
    res = str(t.get("result", "")).split(".")[-1].upper()
    out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
    run = sum(int(n) for n in RUN.findall(out))
    passed = sum(int(n) for n in PASSED.findall(out))
    skipped = sum(int(n) for n in SKIPPED.findall(out))
    if res == "SKIP":
        print("skip", name, "(meson: SKIP)")
    elif res != "OK":
        print("fail", name, f"({res})")
    elif not RUN.search(out) or run == 0:
        print("fail", name, "(meson: OK, but no cmocka test ran)")
    elif passed + skipped != run:
        print("fail", name, f"(meson: OK, but {run} cmocka tests run, {passed} passed)")
    elif skipped:
        print("skip", name, f"({skipped} of {run} cmocka tests skipped)")
    else:
        print("pass", name, f"({run} tests)")
for name in expected:
    if name not in seen:
        print("fail", name, "(in the unit suite, not in meson's log: not run)")
if not expected:
    print("fail", "unit-suite", "(meson introspect lists no test in the unit suite)")
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
	local rc=0 results
	rm -f "$builddir/meson-logs/testlog.json"
	# the cmocka report read below is its standard output, not XML, TAP...
	env -u CMOCKA_MESSAGE_OUTPUT -u CMOCKA_XML_FILE \
		meson test -C "$builddir" --suite unit --print-errorlogs || rc=$?

	local kind name detail counted=0 failed=0 rrc=0
	results=$(meson_results "$builddir") || rrc=$?
	while read -r kind name detail; do
		[[ -n "$kind" ]] || continue
		record "$kind" "unit $label: $name $detail"
		counted=$((counted + 1))
		[[ "$kind" == fail ]] && failed=$((failed + 1))
	done <<<"$results"
	if ((rrc != 0)); then
		record fail "unit $label: meson's test log could not be read (exit $rrc)"
	elif ((rc != 0 && failed == 0)); then
		record fail "unit $label: meson test exited $rc"
	elif ((counted == 0)); then
		record fail "unit $label: no test ran"
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

# live_verdict LOG: why a live script that exited 0 did not pass (nothing when
# it did): its stdout LOG must end with "PASS: NAME: N checks", N >= 1, after
# one "PASS: " line per check, and hold no "FAIL: " line.
live_verdict() {
	local log=$1 summary n lines
	if grep -q '^FAIL: ' "$log"; then
		echo "exit 0, but it printed FAIL lines"
		return
	fi
	summary=$(grep -E '^PASS: .*: [0-9]+ checks$' "$log" | tail -n 1 || true)
	if [[ -z "$summary" ]]; then
		echo "exit 0, but no \"PASS: NAME: N checks\" line"
		return
	fi
	n=${summary% checks}
	n=${n##*: }
	lines=$(grep -c '^PASS: ' "$log" || true)
	if ((n < 1)); then
		echo "exit 0, but it checked nothing ($summary)"
	elif ((lines - 1 != n)); then
		echo "exit 0, but $((lines - 1)) PASS lines for its $n checks"
	fi
}

step_live() {
	local scripts=() t name rc why log
	shopt -s nullglob
	scripts=(tests/live/test_*.sh)
	shopt -u nullglob
	banner "live tests (${#scripts[@]})"
	((${#scripts[@]} > 0)) || record fail "live: no tests/live/test_*.sh found"
	log=$(mktemp /tmp/egressd-test-live.XXXXXX)
	for t in "${scripts[@]}"; do
		name="live: $(basename "$t" .sh)"
		if ((!MAIN_BUILD_OK)); then
			record skip "$name (the build failed)"
			continue
		fi
		echo "--- $t"
		# stdout also to LOG, for live_verdict
		EGRESSD="$ROOT/$BUILD_DIR/app/egressd/egressd" \
			timeout -k 15 "$LIVE_TIMEOUT" bash "$t" </dev/null | tee "$log" &&
			rc=${PIPESTATUS[0]} || rc=${PIPESTATUS[0]}
		case "$rc" in
		0)
			why=$(live_verdict "$log")
			if [[ -z "$why" ]]; then
				record pass "$name"
			else
				record fail "$name ($why)"
			fi
			;;
		77) record skip "$name" ;;
		124) record fail "$name (timed out after ${LIVE_TIMEOUT}s)" ;;
		*) record fail "$name (exit $rc)" ;;
		esac
	done
	rm -f "$log"
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
