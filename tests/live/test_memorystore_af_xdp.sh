#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_memorystore.sh with egressd's ports on net_af_xdp instead of
# net_af_packet: net_af_xdpN,iface=VETH,start_queue=0,queue_count=1 on the same
# veths (the kernel runs the veth's native XDP; without a bpffs libxdp loads
# the redirect program without its dispatcher, which is enough). Every check
# of test_memorystore.sh, plus: egressd's log names the net_af_xdp devices.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support).
set -euo pipefail
export LIVE_PMD=af_xdp
# sourced, not run: $0 (this file) names the test in its verdict
# shellcheck source=test_memorystore.sh
source "$(dirname "${BASH_SOURCE[0]}")/test_memorystore.sh"
