# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034 # the BENCH_* variables are for the sourcing script
#
# The one library of helpers the scripts and the live tests share: sourced by
# scripts/bench.sh, bench-16m.sh, bench-reload.sh, bench-reload-traffic.sh and
# tests/live/lib.sh (whose live_* helpers build on it). Sourcing it only
# defines functions: nothing runs, no variable is set, no trap is installed.
# NAME is the log prefix ("bench", "bench-16m").
#
#   bench_log NAME MSG...      "NAME: MSG" on stderr
#   bench_die NAME MSG...      bench_log, exit 1
#   bench_skip NAME MSG...     "NAME: cannot run here: MSG", exit 77
#   bench_usage FILE           FILE's top comment from "# Usage:" to "# Exit:"
# Processes (only those started here, by PID):
#   bench_track_pid PID        a process started here, stopped on exit
#   bench_forget_pid PID       no longer tracked (reaped: the PID may be reused)
#   bench_wait_exit PID S      0 once PID has exited, 1 if it still runs after S s
#   bench_stop_pid PID SIG S   signal, wait S s, SIGKILL, reap, forget;
#                              BENCH_STOP_RC = its exit status,
#                              BENCH_STOP_FORCED = 1 if SIGKILL was needed
#   bench_track_prefix PREFIX  a DPDK --file-prefix used here: its runtime
#                              folder /var/run/dpdk/PREFIX is removed on exit
#   bench_stop_dpdk PID SIG S PREFIX
#                              bench_stop_pid, then remove PREFIX's runtime
#                              folder
#   bench_wait_for F PAT PID S [N]
#                              until F has N lines (1) matching PAT (0), PID
#                              exits or S s pass (1)
#   bench_telemetry_cmd PREFIX [PYTHON]
#                              BENCH_TELEMETRY_CMD = a command that runs the
#                              Python script on stdin (python3, or PYTHON)
#                              with scripts/egress_telemetry.py importable,
#                              the telemetry socket of the DPDK process of
#                              --file-prefix PREFIX as its first argument and
#                              the command's own arguments after it; started
#                              in the background, $! is the interpreter itself
# Set-up:
#   bench_have_net_pcap        DPDK's net_pcap PMD is installed
#   bench_require NAME LCORES TOOL...
#                              skip (77) unless root, TOOLs on PATH, net_pcap,
#                              2 cores
#   bench_build NAME DIR NO_BUILD LOG [MESON_ARGS...]
#                              scripts/build.sh DIR unless NO_BUILD is 1 (output
#                              in LOG, its tail and exit 1 on failure);
#                              BENCH_BUILD_DIR = DIR, absolute
#   bench_session NAME MB      for a benchmark of one egressd at a time: a
#                              temporary folder BENCH_TMP, a --file-prefix
#                              BENCH_PREFIX (tracked), the traps (bench_cleanup
#                              on exit, BENCH_TMP removed) and BENCH_MEM_OPTS,
#                              the EAL memory options: MB MiB of 2 MiB
#                              hugepages on a private hugetlbfs, or --no-huge
#                              -m MB (said on stderr) when they cannot be had
# Hugepages:
#   bench_hugepages_raise NAME PAGES
#                              PAGES free 2 MiB hugepages: nr_hugepages raised
#                              by what is missing, never lowered; the pages
#                              added add up in BENCH_HUGE_ADDED, BENCH_HUGE_FREE
#                              = free pages; 1 if too few (or not writable)
#   bench_hugepages_restore NAME
#                              nr_hugepages lowered by BENCH_HUGE_ADDED (by
#                              what was added, so that pages others reserved
#                              meanwhile stay theirs)
#   bench_hugetlbfs_mount TEMPLATE
#                              a private hugetlbfs (2M) on mktemp -d TEMPLATE:
#                              BENCH_HUGE_DIR, or 1 if it cannot be mounted
# Exit:
#   bench_teardown NAME SIG S [DPDK_PREFIX...]
#                              stop the tracked processes (SIG, SIGKILL after
#                              S s), remove the runtime folders of the tracked
#                              prefixes and of DPDK_PREFIX..., unmount
#                              BENCH_HUGE_DIR, bench_hugepages_restore
#   bench_tmp_remove DIR KEEP  remove DIR unless KEEP is 1; 1 if it was kept
#                              (for the caller to say so)
#   bench_cleanup NAME TMP KEEP [DPDK_PREFIX...]
#                              the EXIT trap of the benchmarks: bench_teardown
#                              with SIGKILL, remove TMP unless KEEP is 1;
#                              exits with the status the script was exiting with
#   bench_traps CMD            CMD on EXIT, exit 130 on SIGINT, 143 on SIGTERM
#
# Variables set by these functions: BENCH_PIDS, BENCH_PREFIXES, BENCH_STOP_RC,
# BENCH_STOP_FORCED, BENCH_TELEMETRY_CMD, BENCH_BUILD_DIR, BENCH_TMP, BENCH_PREFIX,
# BENCH_MEM_OPTS, BENCH_HUGE_ADDED, BENCH_HUGE_FREE, BENCH_HUGE_DIR.

bench_log() {
	local name=$1
	shift
	echo "$name: $*" >&2
}

bench_die() {
	bench_log "$@"
	exit 1
}

bench_skip() {
	local name=$1
	shift
	bench_log "$name" "cannot run here: $*"
	exit 77
}

bench_usage() {
	sed -n '/^# Usage:/,/^# Exit:/p' "$1" | sed 's/^# \{0,1\}//'
}

# --- processes --------------------------------------------------------------

bench_track_pid() {
	BENCH_PIDS+=("$1")
}

bench_forget_pid() {
	local p keep=()
	for p in "${BENCH_PIDS[@]}"; do
		[[ "$p" == "$1" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# bench_wait_exit PID SECONDS: poll every 0.1 s.
bench_wait_exit() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null
}

# bench_stop_pid PID SIGNAL SECONDS: signal one of ours, wait, SIGKILL if needed.
# Its stderr is discarded: the shell's "Killed" notice when it reaps what it
# killed here (it prints none for SIGINT).
bench_stop_pid() {
	local pid=$1 sig=$2 secs=$3
	BENCH_STOP_RC=0
	BENCH_STOP_FORCED=0
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		if ! bench_wait_exit "$pid" "$secs"; then
			kill -s KILL "$pid" 2>/dev/null || true
			BENCH_STOP_FORCED=1
		fi
	fi
	wait "$pid" 2>/dev/null || BENCH_STOP_RC=$?
	bench_forget_pid "$pid"
} 2>/dev/null

bench_track_prefix() {
	BENCH_PREFIXES+=("$1")
}

# bench_stop_dpdk PID SIGNAL SECONDS PREFIX: a DPDK process of ours and its
# runtime folder (its hugepage files are unlinked: --huge-unlink, or none).
bench_stop_dpdk() {
	bench_stop_pid "$1" "$2" "$3"
	[[ -n "$4" ]] && rm -rf "/var/run/dpdk/$4"
	return 0
}

# bench_wait_for FILE PATTERN PID SECONDS [COUNT]
bench_wait_for() {
	local f=$1 pat=$2 pid=$3 secs=$4 count=${5:-1} i n
	for ((i = 0; i < secs * 10; i++)); do
		n=$(grep -c "$pat" "$f" 2>/dev/null) || true
		((${n:-0} >= count)) && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# bench_telemetry_cmd PREFIX [PYTHON]: env(1) runs the interpreter, so that
# $! of the command started in the background is the interpreter's PID.
bench_telemetry_cmd() {
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	BENCH_TELEMETRY_CMD=(env "PYTHONPATH=$root/scripts" "${2:-python3}" -
		"/var/run/dpdk/$1/dpdk_telemetry.v2")
}

# --- set-up -----------------------------------------------------------------

bench_have_net_pcap() {
	local libdir
	libdir=$(pkg-config --variable=libdir libdpdk 2>/dev/null || echo /usr/lib)
	compgen -G "$libdir/dpdk/pmds-*/librte_net_pcap.so*" >/dev/null ||
		compgen -G "/usr/lib/*/dpdk/pmds-*/librte_net_pcap.so*" >/dev/null ||
		compgen -G "/usr/local/lib*/dpdk/pmds-*/librte_net_pcap.so*" >/dev/null
}

bench_require() {
	local name=$1 lcores=$2 c
	shift 2
	((EUID == 0)) || bench_skip "$name" "needs root (hugepages, /var/run/dpdk)"
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			bench_skip "$name" "$c not installed (scripts/install-deps.sh)"
	done
	bench_have_net_pcap ||
		bench_skip "$name" "DPDK's net_pcap PMD is not installed (librte-net-pcap23)"
	(($(nproc) >= 2)) || bench_skip "$name" "needs 2 cores (-l $lcores)"
}

bench_build() {
	local name=$1 dir=$2 no_build=$3 log=$4 root
	shift 4
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if ((!no_build)); then
		bench_log "$name" "building $dir${*:+ ($*)}"
		bash "$root/scripts/build.sh" "$dir" "$@" >"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			bench_die "$name" "the build failed"
		}
	fi
	[[ "$dir" == /* ]] || dir=$root/$dir
	BENCH_BUILD_DIR=$dir
}

# bench_session NAME MB: what the reload benchmarks share (see the top).
bench_session() {
	local name=$1 mb=$2
	BENCH_TMP=$(mktemp -d "/tmp/egressd-$name.XXXXXX")
	BENCH_PREFIX=eg${name//[^a-z]/}$$
	bench_track_prefix "$BENCH_PREFIX"
	bench_traps "bench_cleanup $name \"\$BENCH_TMP\" 0"
	if bench_hugepages_raise "$name" $((mb / 2)) &&
		bench_hugetlbfs_mount "/tmp/egressd-$name-huge.XXXXXX" 2>/dev/null; then
		BENCH_MEM_OPTS=(-m "$mb" --huge-dir "$BENCH_HUGE_DIR" --huge-unlink)
	else
		bench_log "$name" "no hugepages could be reserved: running with --no-huge"
		BENCH_MEM_OPTS=(--no-huge -m "$mb")
	fi
}

# --- hugepages --------------------------------------------------------------

bench_hugepages_raise() {
	local name=$1 want=$2 sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB nr added
	BENCH_HUGE_FREE=$(cat "$sysfs/free_hugepages" 2>/dev/null || echo 0)
	[[ -w "$sysfs/nr_hugepages" ]] || return 1
	nr=$(cat "$sysfs/nr_hugepages")
	if ((BENCH_HUGE_FREE < want)); then
		echo $((nr + want - BENCH_HUGE_FREE)) >"$sysfs/nr_hugepages" 2>/dev/null || true
		added=$(($(cat "$sysfs/nr_hugepages") - nr))
		((added >= 0)) || added=0
		BENCH_HUGE_ADDED=$((${BENCH_HUGE_ADDED:-0} + added))
		BENCH_HUGE_FREE=$(cat "$sysfs/free_hugepages")
		bench_log "$name" "hugepages: 2 MiB pages raised from $nr to $((nr + added))" \
			"($BENCH_HUGE_FREE free, $want wanted); lowered by as many on exit"
	fi
	((BENCH_HUGE_FREE >= want))
}

bench_hugepages_restore() {
	local name=$1 sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB nr added
	added=${BENCH_HUGE_ADDED:-0}
	((added > 0)) || return 0
	nr=$(cat "$sysfs/nr_hugepages")
	((nr >= added)) || added=$nr
	if echo $((nr - added)) >"$sysfs/nr_hugepages" 2>/dev/null; then
		BENCH_HUGE_ADDED=0
		bench_log "$name" "hugepages: 2 MiB pages lowered by the $added added here" \
			"(now $(cat "$sysfs/nr_hugepages"))"
	fi
}

bench_hugetlbfs_mount() {
	BENCH_HUGE_DIR=$(mktemp -d "$1") || return 1
	mount -t hugetlbfs -o pagesize=2M nodev "$BENCH_HUGE_DIR" || {
		rmdir "$BENCH_HUGE_DIR"
		BENCH_HUGE_DIR=""
		return 1
	}
}

# --- exit -------------------------------------------------------------------

bench_teardown() {
	local name=$1 sig=$2 secs=$3 p
	shift 3
	for p in "${BENCH_PIDS[@]}"; do
		bench_stop_pid "$p" "$sig" "$secs"
	done
	for p in "${BENCH_PREFIXES[@]}" "$@"; do
		[[ -n "$p" ]] && rm -rf "/var/run/dpdk/$p"
	done
	if [[ -n "${BENCH_HUGE_DIR:-}" ]]; then
		umount "$BENCH_HUGE_DIR" 2>/dev/null || bench_log "$name" "could not unmount $BENCH_HUGE_DIR"
		rmdir "$BENCH_HUGE_DIR" 2>/dev/null
	fi
	bench_hugepages_restore "$name"
}

bench_tmp_remove() {
	[[ -n "$1" && -d "$1" ]] || return 0
	[[ "$2" == 1 ]] && return 1
	rm -rf "$1"
}

bench_cleanup() {
	local rc=$? name=$1 tmp=$2 keep_tmp=$3
	shift 3
	trap - EXIT INT TERM
	set +e
	bench_teardown "$name" KILL 2 "$@"
	bench_tmp_remove "$tmp" "$keep_tmp" || bench_log "$name" "kept $tmp"
	exit "$rc"
}

bench_traps() {
	# shellcheck disable=SC2064 # CMD is the caller's, run as it is on exit
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
