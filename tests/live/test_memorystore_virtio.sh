#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_memorystore.sh with egressd's ports on virtio-user
# (net_virtio_userN,path=SOCK,queues=1) against net_vhost ports of a
# dpdk-testpmd that bridges them to the same veths (lib.sh
# live_vhost_bridge_up): every check of test_memorystore.sh, with TCP/UDP
# checksum offload negotiated on both ports.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support, no dpdk-testpmd).
set -euo pipefail
export LIVE_PMD=virtio
# sourced, not run: $0 (this file) names the test in its verdict
# shellcheck source=test_memorystore.sh
source "$(dirname "${BASH_SOURCE[0]}")/test_memorystore.sh"
