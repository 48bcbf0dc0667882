#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, libraries
# instrumented for coverage) and run each one for SECONDS on a fresh copy of
# its seed corpus (tests/fuzz/corpus/<target>/) and the reproducers of its past
# findings (tests/fuzz/crashes/<target>-*).
#
#   pkt       pkt_parse() on arbitrary bytes
#   sni       pkt_tls_sni() (the flow log's SNI) on arbitrary payloads
#   pipeline  bursts of frames through the workers' poll loops (dp_process(),
#             hand-offs, dp_sweep(); QSBR), invariants after every burst,
#             state kept across inputs
#   yaml      yfile_parse()
#   config    egress_config_load()
#   istio     istio_load_buffer(), then policy_build() when it loads cleanly
#   sync      ctl_sync_decode() (session sync) on arbitrary datagrams, round trip
#
# Everything a run leaves is in FUZZ_OUT/<target>/: corpus/ (the seeds and what
# the run added), log, and the artifacts libFuzzer writes on a finding
# (crash-*, leak-*, timeout-*, oom-*). The pipeline target keeps every input
# since its last state rebuild in history.bin, copied next to each crash as
# <artifact>.history; replay it with
#   FUZZ_PIPELINE_REPLAY=FILE build-fuzz/tests/fuzz/fuzz_pipeline
# Any other artifact replays with: build-fuzz/tests/fuzz/fuzz_<target> ARTIFACT
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS   per target, default 60
#   TARGET    any of the names above (fuzz_ prefix allowed), default all
# Environment:
#   FUZZ_BUILD_DIR     default build-fuzz
#   FUZZ_OUT           default fuzz-out
#   FUZZ_MESON_ARGS    extra `meson setup` arguments (e.g. -Dwerror=false)
#   FUZZ_ARGS          extra libFuzzer arguments for every target
#   FUZZ_PIPELINE_SKIP, FUZZ_PIPELINE_TRACE   passed to fuzz_pipeline (see the
#                      top of tests/fuzz/fuzz_pipeline.c): e.g. to look past an
#                      open finding, FUZZ_PIPELINE_SKIP=icmp0,reparse
# Exit: 0 no finding; 1 a target crashed, leaked, hung or failed to run;
#       2 usage or build error; 77 clang (with libFuzzer) cannot be installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ALL_TARGETS=(pkt sni pipeline yaml config istio sync)
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
OUT=${FUZZ_OUT:-fuzz-out}
SECS=60
TARGETS=()

log() {
	echo "fuzz: $*" >&2
}

usage() {
	sed -n '/^# Usage:/,/^# Exit:/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

parse_args() {
	local a t ok
	if (($# > 0)) && [[ "$1" =~ ^[0-9]+$ ]]; then
		SECS=$1
		shift
	fi
	for a in "$@"; do
		[[ "$a" == -h || "$a" == --help ]] && usage
		a=${a#fuzz_}
		ok=0
		for t in "${ALL_TARGETS[@]}"; do
			[[ "$a" == "$t" ]] && ok=1
		done
		((ok)) || {
			log "unknown target '$a' (targets: ${ALL_TARGETS[*]})"
			usage
		}
		TARGETS+=("$a")
	done
	((${#TARGETS[@]} > 0)) || TARGETS=("${ALL_TARGETS[@]}")
	((SECS > 0)) || usage
}

# True when clang can build and link a libFuzzer program with ASan + UBSan.
clang_fuzzer_works() {
	local dir rc=0
	command -v clang >/dev/null 2>&1 || return 1
	dir=$(mktemp -d)
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$dir/probe.c"
	clang -fsanitize=fuzzer,address,undefined "$dir/probe.c" -o "$dir/probe" \
		>/dev/null 2>&1 || rc=1
	rm -rf "$dir"
	return "$rc"
}

ensure_clang() {
	local major
	clang_fuzzer_works && return 0
	if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
		log "clang with libFuzzer is not installed and cannot be (not root, or no apt-get)"
		exit 77
	fi
	log "installing clang (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q clang >&2; then
		apt-get update -q >&2 || true
		apt-get install -y -q clang >&2 || true
	fi
	# libFuzzer's runtime is a separate package on Debian 12 (a Recommends)
	if command -v clang >/dev/null 2>&1 && ! clang_fuzzer_works; then
		major=$(clang -dumpversion | cut -d. -f1)
		apt-get install -y -q "libclang-rt-$major-dev" >&2 || true
	fi
	if ! clang_fuzzer_works; then
		log "clang with libFuzzer could not be installed"
		exit 77
	fi
}

build() {
	# debugoptimized: line numbers in every report, and assert() enabled
	local opts=(-Dfuzz=true -Dsanitize=true -Dtests=true -Dbuildtype=debugoptimized)
	local extra=() t ninja_targets=()
	read -r -a extra <<<"${FUZZ_MESON_ARGS:-}"
	if [[ -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
		# a folder configured with another compiler cannot be reconfigured
		if ! meson setup --reconfigure "$BUILD_DIR" "${opts[@]}" "${extra[@]}" >/dev/null; then
			log "reconfigure failed; wiping $BUILD_DIR"
			CC=clang meson setup --wipe "$BUILD_DIR" "${opts[@]}" "${extra[@]}" >/dev/null ||
				return 1
		fi
	else
		log "configuring $BUILD_DIR"
		CC=clang meson setup "$BUILD_DIR" "${opts[@]}" "${extra[@]}" >/dev/null || return 1
	fi
	# only the fuzz programs (and the libraries they need): CI time matters
	for t in "${TARGETS[@]}"; do
		ninja_targets+=("tests/fuzz/fuzz_$t")
	done
	log "building ${ninja_targets[*]}"
	ninja -C "$BUILD_DIR" "${ninja_targets[@]}"
}

# libFuzzer options per target: input size bound and dictionary.
target_args() {
	case "$1" in
	pkt) echo "-max_len=1600" ;;
	sni) echo "-max_len=1600" ;;
	pipeline) echo "-max_len=16384" ;; # INPUT_MAX of fuzz_pipeline.c
	yaml) echo "-max_len=8192 -dict=tests/fuzz/yaml.dict" ;;
	config) echo "-max_len=8192 -dict=tests/fuzz/config.dict" ;;
	istio) echo "-max_len=8192 -dict=tests/fuzz/istio.dict" ;;
	sync) echo "-max_len=1600" ;; # CTL_SYNC_DGRAM_MAX is 1424
	esac
}

# The value of one "stat::NAME:" line of libFuzzer's final statistics ("?"
# when the run ended before printing them).
stat_of() {
	local v
	v=$(sed -n "s/^stat::$2:[[:space:]]*//p" "$1" | tail -n 1)
	echo "${v:-?}"
}

# "cov: N ft: N corp: N/SIZE" of libFuzzer's last status line ("" when none:
# a target that died while starting).
coverage_of() {
	{ grep -E '^#[0-9]+' "$1" || true; } | tail -n 1 |
		sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [0-9]+\/[0-9]+[a-zA-Z]*).*/\1/'
}

FOUND=0
SUMMARY=()

run_target() {
	local t=$1 dir="$OUT/$1" bin="$BUILD_DIR/tests/fuzz/fuzz_$1"
	local rc=0 args=() extra=() a artifacts=()
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp -- tests/fuzz/corpus/"$t"/* "$dir/corpus/"
	# the reproducers of past findings run with the seeds: regressions
	shopt -s nullglob
	for a in tests/fuzz/crashes/"$t"-*; do
		[[ -f "$a" ]] && cp -- "$a" "$dir/corpus/"
	done
	shopt -u nullglob
	read -r -a args <<<"$(target_args "$t")"
	read -r -a extra <<<"${FUZZ_ARGS:-}"
	log "running fuzz_$t for ${SECS}s"
	# DPDK's EAL keeps its memory until exit: only leaks per input count
	# (libFuzzer's own -detect_leaks), not what is left at exit.
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:leak_check_at_exit=0:symbolize=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
	FUZZ_PIPELINE_HISTORY="$dir/history.bin" \
		"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$dir/" "${args[@]}" "${extra[@]}" \
		"$dir/corpus" >"$dir/log" 2>&1 || rc=$?

	shopt -s nullglob
	artifacts=("$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*)
	shopt -u nullglob
	if [[ "$t" == pipeline && -f "$dir/history.bin" ]]; then
		for a in "${artifacts[@]}"; do
			cp -- "$dir/history.bin" "$a.history"
		done
	fi
	if ((rc != 0 || ${#artifacts[@]} > 0)); then
		FOUND=1
		SUMMARY+=("fuzz_$t: FOUND (exit $rc) $(coverage_of "$dir/log")")
		echo "=== fuzz_$t: finding (exit $rc), log $dir/log"
		{ grep -E 'ERROR: |runtime error|invariant failed|^    #[0-5] |SUMMARY|Test unit written' \
			"$dir/log" || true; } | head -n 16 | sed 's/^/  /'
		((${#artifacts[@]} > 0)) || echo "  no input saved: the target failed before fuzzing (see the log)"
		for a in "${artifacts[@]}"; do
			echo "  artifact: $a"
			echo "  replay:   $bin $a"
		done
		if [[ "$t" == pipeline && ${#artifacts[@]} -gt 0 ]]; then
			echo "  the pipeline's state depends on earlier inputs; replay all of them with:"
			echo "  FUZZ_PIPELINE_REPLAY=${artifacts[0]:-$dir/history.bin}${artifacts[0]:+.history} $bin"
		fi
		return 0
	fi
	SUMMARY+=("$(printf 'fuzz_%-9s ok  runs %-9s exec/s %-6s %s' "$t" \
		"$(stat_of "$dir/log" number_of_executed_units)" \
		"$(stat_of "$dir/log" average_exec_per_sec)" "$(coverage_of "$dir/log")")")
}

main() {
	local t
	parse_args "$@"
	ensure_clang
	if ! build; then
		log "build failed"
		exit 2
	fi
	for t in "${TARGETS[@]}"; do
		run_target "$t"
	done
	echo "=== fuzz summary (${SECS}s per target, $OUT/)"
	printf '%s\n' "${SUMMARY[@]}"
	if ((FOUND)); then
		echo "fuzz: findings above"
		exit 1
	fi
	echo "fuzz: no finding"
}

main "$@"
