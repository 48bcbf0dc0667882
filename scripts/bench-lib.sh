# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034 # the BENCH_* variables are for the sourcing script
#
# Helpers shared by scripts/bench.sh and scripts/bench-16m.sh (the reload
# benchmarks use scripts/bench-common.sh). Sourcing it only defines
# functions: nothing runs, no variable is set, no trap is installed. NAME is
# the log prefix ("bench", "bench-16m").
#
#   bench_log NAME MSG...      "NAME: MSG" on stderr
#   bench_die NAME MSG...      bench_log, exit 1
#   bench_skip NAME MSG...     "NAME: cannot run here: MSG", exit 77
#   bench_usage FILE           FILE's top comment from "# Usage:" to "# Exit:"
#   bench_track_pid PID        a process started here, stopped on exit
#   bench_forget_pid PID       no longer tracked (reaped: the PID may be reused)
#   bench_stop_pid PID SIG S   signal, wait S s, SIGKILL, reap, forget;
#                              BENCH_STOP_RC = its exit status,
#                              BENCH_STOP_FORCED = 1 if SIGKILL was needed
#   bench_wait_for F PAT PID S [N]
#                              until F has N lines (1) matching PAT (0), PID
#                              exits or S s pass (1)
#   bench_have_net_pcap        DPDK's net_pcap PMD is installed
#   bench_require NAME LCORES TOOL...
#                              skip (77) unless root, TOOLs on PATH, net_pcap,
#                              2 cores
#   bench_build NAME DIR NO_BUILD LOG [MESON_ARGS...]
#                              scripts/build.sh DIR unless NO_BUILD is 1 (output
#                              in LOG, its tail and exit 1 on failure);
#                              BENCH_BUILD_DIR = DIR, absolute
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
#   bench_cleanup NAME TMP KEEP [DPDK_PREFIX...]
#                              the EXIT trap: stop the tracked processes
#                              (SIGKILL), remove /var/run/dpdk/DPDK_PREFIX,
#                              unmount BENCH_HUGE_DIR, bench_hugepages_restore,
#                              remove TMP unless KEEP is 1; exits with the
#                              status the script was exiting with
#   bench_traps CMD            CMD on EXIT, exit 130 on SIGINT, 143 on SIGTERM
#
# Variables set by these functions: BENCH_PIDS, BENCH_STOP_RC, BENCH_STOP_FORCED, BENCH_BUILD_DIR,
# BENCH_HUGE_ADDED, BENCH_HUGE_FREE, BENCH_HUGE_DIR.

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

# bench_stop_pid PID SIGNAL SECONDS: signal one of ours, wait, SIGKILL if needed.
# Its stderr is discarded: the shell's "Killed" notice when it reaps what it
# killed here (it prints none for SIGINT).
bench_stop_pid() {
	local pid=$1 sig=$2 secs=$3 i
	BENCH_STOP_RC=0
	BENCH_STOP_FORCED=0
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < secs * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -s KILL "$pid" 2>/dev/null || true
			BENCH_STOP_FORCED=1
		fi
	fi
	wait "$pid" 2>/dev/null || BENCH_STOP_RC=$?
	bench_forget_pid "$pid"
} 2>/dev/null

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

bench_cleanup() {
	local rc=$? name=$1 tmp=$2 keep_tmp=$3 p
	shift 3
	trap - EXIT INT TERM
	set +e
	for p in "${BENCH_PIDS[@]}"; do
		bench_stop_pid "$p" KILL 2
	done
	for p in "$@"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [[ -n "${BENCH_HUGE_DIR:-}" ]]; then
		umount "$BENCH_HUGE_DIR" 2>/dev/null || bench_log "$name" "could not unmount $BENCH_HUGE_DIR"
		rmdir "$BENCH_HUGE_DIR" 2>/dev/null
	fi
	bench_hugepages_restore "$name"
	if [[ -n "$tmp" && -d "$tmp" ]]; then
		if ((keep_tmp)); then
			bench_log "$name" "kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}

bench_traps() {
	# shellcheck disable=SC2064 # CMD is the caller's, run as it is on exit
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
