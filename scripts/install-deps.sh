#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the Debian 12 packages that egressd needs to build, test and run its
# demo. Idempotent: when every package is already installed it only asks dpkg
# and returns at once, without touching the network. Needs root to install.
#
# Usage: scripts/install-deps.sh
set -euo pipefail

# Every prerequisite of every test: under CI=true a live test that finds one
# missing runs this script and fails if it is still missing (tests/live/lib.sh).
# Installed without recommends, so a runtime a test needs is named even when
# the package that uses it recommends it.
PACKAGES=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev libyaml-dev libnuma-dev libcmocka-dev
	# GET /metrics (lib/ctl/metrics_http.c)
	libmicrohttpd-dev
	# sd_notify (app/egressd/service.c)
	libsystemd-dev
	# net_pcap PMD: test_pcap_replay, test_bench_smoke (dpdk only recommends it)
	librte-net-pcap23
	# ip, ethtool, sysctl, timeout, runuser, redis-*, nc: the live tests
	iproute2 ethtool procps coreutils util-linux redis-server redis-tools netcat-openbsd
	# systemd-analyze (verify) and systemd.pc (the unit folder): test_install
	systemd
	# the package build and its check: test_deb (dpkg-dev comes with
	# build-essential)
	debhelper lintian
	# curl, promtool: test_metrics
	curl prometheus
	# OpenSSL's own ClientHellos: test_sni; a TLS client and server: test_flowlog
	libssl-dev openssl
	python3
	# clang with libFuzzer and the sanitizers (clang only recommends the
	# runtime): test_fuzz_smoke; clang-format: lint (advisory)
	clang libclang-rt-dev clang-format
	# lint's shell check (it is skipped, with a note, when not installed)
	shellcheck
	# bgpd, bfdd, zebra: the router and the appliances of test_scale_out
	frr
)

log() {
	echo "install-deps: $*" >&2
}

# Print the packages of PACKAGES that dpkg does not report as installed (one
# dpkg-query for all of them: this is the fast path of every test run).
missing_packages() {
	local -A installed=()
	local pkg status
	while read -r pkg status; do
		if [[ "$status" == "install ok installed" ]]; then
			installed[$pkg]=1
		fi
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	for pkg in "${PACKAGES[@]}"; do
		if [[ -z "${installed[$pkg]:-}" ]]; then
			echo "$pkg"
		fi
	done
}

# Keep package maintainer scripts from starting services (redis-server would
# otherwise start a daemon in the root namespace that no test asked for).
# Only installed if the machine has no policy-rc.d of its own; removed on exit.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0

restore_policy_rc() {
	if ((POLICY_RC_OURS)); then
		rm -f "$POLICY_RC"
	fi
}

block_service_starts() {
	if [[ ! -e "$POLICY_RC" ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
		chmod 755 "$POLICY_RC"
		POLICY_RC_OURS=1
		trap restore_policy_rc EXIT
	fi
}

apt_install() {
	local attempt
	for attempt in 1 2 3; do
		if apt-get install -y -q --no-install-recommends "$@"; then
			return 0
		fi
		log "apt-get install failed (attempt $attempt), refreshing the lists and retrying"
		sleep 2
		apt-get update -q || true
	done
	return 1
}

main() {
	local missing
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		log "all ${#PACKAGES[@]} packages present"
		return 0
	fi
	if ((EUID != 0)); then
		log "missing: ${missing[*]}; run as root to install them"
		return 1
	fi

	export DEBIAN_FRONTEND=noninteractive
	log "installing: ${missing[*]}"
	block_service_starts
	# The package lists of a fresh machine may be empty or stale: refresh them
	# first, but only here, when something has to be installed.
	apt-get update -q
	apt_install "${missing[@]}"

	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} != 0)); then
		log "still missing after install: ${missing[*]}"
		return 1
	fi
	log "done"
}

main "$@"
