/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's ports: finding the configured devices and setting them up from
 * what each one offers (rte_eth_dev_info).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "log.h"
#include "port.h"

EGRESS_LOG_TYPE(app);

/* A device named in the config: already created by --vdev, or probed now. */
int
port_find(const char *device, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(device, ",");
	int rc;

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, device, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	rc = rte_dev_probe(device);
	if (rc < 0)
		return rc;
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	/* a PCI address may have been written without its domain */
	if (n + 5 < sizeof(name)) {
		memmove(name + 5, name, n + 1);
		memcpy(name, "0000:", 5);
		if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
			return 0;
	}
	return -ENODEV;
}

/* RSS over the workers' queues: the symmetric key where the device takes one. */
static void
port_rss(const struct egress_port_cfg *pc, const struct rte_eth_dev_info *info,
	 struct rte_eth_conf *conf, uint8_t *key, size_t key_max)
{
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_hf =
		info->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	if (info->hash_key_size == 0 || info->hash_key_size > key_max) {
		EGRESS_LOG(INFO,
			   "%s: RSS with the device's own key (it takes no key of %u bytes or "
			   "less): each direction of a flow hashes on its own",
			   pc->device, (unsigned int)key_max);
		return;
	}
	dp_rss_symmetric_key(key, info->hash_key_size);
	conf->rx_adv_conf.rss_conf.rss_key = key;
	conf->rx_adv_conf.rss_conf.rss_key_len = info->hash_key_size;
	EGRESS_LOG(INFO, "%s: RSS with the symmetric Toeplitz key (0x6d5a, %u bytes)", pc->device,
		   info->hash_key_size);
}

/*
 * The MTU (an L3 size) against the device's limits, as ethdev will judge it
 * (its overhead: max_rx_pktlen - max_mtu where the PMD says both, else the
 * Ethernet header and FCS; a VLAN tag is the NIC's own allowance), said
 * before rte_eth_dev_configure() refuses it without a word to the operator.
 */
static int
port_mtu(const struct egress_port_cfg *pc, const struct rte_eth_dev_info *info)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	uint32_t frame;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	frame = (uint32_t)pc->mtu + overhead;
	if (pc->mtu > info->max_mtu || pc->mtu < info->min_mtu || frame > info->max_rx_pktlen) {
		EGRESS_LOG(ERR,
			   "%s: mtu %u: the device takes an MTU of %u-%u and frames of at most "
			   "%u bytes (this one: %u); lower ports.*.mtu",
			   pc->device, pc->mtu, info->min_mtu, info->max_mtu, info->max_rx_pktlen,
			   frame);
		return -EINVAL;
	}
	return 0;
}

/* The offloads egressd uses that the device offers; dpc->offloads says which. */
static void
port_offloads(const struct egress_port_cfg *pc, const struct rte_eth_dev_info *info,
	      struct rte_eth_conf *conf, struct dp_port_conf *dpc)
{
	const uint64_t rx_cksum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				  RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	const uint64_t tx_l4 = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

	/* verified checksums come as mbuf flags (lib/dp stage_parse()): a frame
	 * the NIC marked good is not summed again, one marked bad is dropped */
	const bool cksum = !pc->no_cksum_offload; /* checksum_offload: false */

	if (cksum && (info->rx_offload_capa & rx_cksum) == rx_cksum)
		conf->rxmode.offloads |= rx_cksum;
	if (cksum && (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		dpc->offloads |= DP_PORT_TX_IP_CKSUM;
	}
	if (cksum && (info->tx_offload_capa & tx_l4) == tx_l4) {
		conf->txmode.offloads |= tx_l4;
		dpc->offloads |= DP_PORT_TX_L4_CKSUM;
	}
	/* every mbuf comes from one pool (the workers' and the control
	 * thread's generated frames too) and none is ever shared (no clone, no
	 * refcnt above 1): what fast-free asks of the application */
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* Multi-segment frames are not supported: neither RX scatter nor TX
	 * multi-segs is asked for, the pool's buffers hold a whole frame of the
	 * port's MTU, and a chained mbuf that still arrives is dropped and
	 * counted (multi_segment). */
	if (pc->vlan != 0) {
		if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) {
			conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
			dpc->offloads |= DP_PORT_VLAN_STRIP;
		}
		if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) {
			conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
			dpc->offloads |= DP_PORT_VLAN_INSERT;
		}
	}
	EGRESS_LOG(INFO,
		   "%s: offloads: rx checksum %s, tx ipv4 checksum %s, tx tcp/udp checksum %s, "
		   "fast-free %s%s%s",
		   pc->device, (conf->rxmode.offloads & rx_cksum) ? "on" : "off",
		   (dpc->offloads & DP_PORT_TX_IP_CKSUM) ? "on" : "off",
		   (dpc->offloads & DP_PORT_TX_L4_CKSUM) ? "on" : "off",
		   (conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) ? "on" : "off",
		   pc->vlan == 0                        ? "" :
		   (dpc->offloads & DP_PORT_VLAN_STRIP) ? ", vlan strip on" :
							  ", vlan strip off",
		   pc->vlan == 0                         ? "" :
		   (dpc->offloads & DP_PORT_VLAN_INSERT) ? ", vlan insert on" :
							   ", vlan insert off");
}

/* The descriptor counts: the config's (or ours), fitted to the device, said when changed. */
static int
port_desc(uint16_t port_id, const struct egress_port_cfg *pc, uint16_t *rxd, uint16_t *txd)
{
	uint16_t want_rx = *rxd, want_tx = *txd;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, rxd, txd);
	if (rc != 0)
		return rc;
	if (*rxd != want_rx || *txd != want_tx)
		EGRESS_LOG(WARNING,
			   "%s: %u RX / %u TX descriptors asked for, the device takes %u / %u",
			   pc->device, want_rx, want_tx, *rxd, *txd);
	return 0;
}

/* "[DDDD:]BB:DD.F": a PCI address, not a vdev name. */
static bool
is_pci_address(const char *s, size_t n)
{
	unsigned int colons = 0, dots = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == ':')
			colons++;
		else if (s[i] == '.')
			dots++;
		else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return (colons == 1 || colons == 2) && dots == 1;
}

/* The last path component of a sysfs link (a driver, an IOMMU group); "" when absent. */
static void
sysfs_link_name(const char *path, char *name, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash;

	name[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	slash = slash != NULL ? slash + 1 : target;
	if (strlen(slash) < size)
		memcpy(name, slash, strlen(slash) + 1);
}

void
port_explain_missing(const char *device)
{
	size_t n = strcspn(device, ",");
	char addr[32], path[PATH_MAX], driver[64], group[64];

	if (!is_pci_address(device, n) || n + 5 >= sizeof(addr)) {
		EGRESS_LOG(ERR,
			   "%.*s: not a device DPDK could create: check the driver name and its "
			   "arguments (the EAL messages above say which one it refused)",
			   (int)n, device);
		return;
	}
	/* sysfs names PCI devices with their domain */
	snprintf(addr, sizeof(addr), "%s%.*s", n < 12 ? "0000:" : "", (int)n, device);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", addr);
	if (access(path, F_OK) != 0) {
		EGRESS_LOG(ERR, "%s: no such PCI device on this machine (lspci -D lists them)",
			   addr);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
	sysfs_link_name(path, driver, sizeof(driver));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	sysfs_link_name(path, group, sizeof(group));
	if (strcmp(driver, "vfio-pci") != 0 && strcmp(driver, "uio_pci_generic") != 0 &&
	    strcmp(driver, "igb_uio") != 0 && strncmp(driver, "mlx", 3) != 0) {
		EGRESS_LOG(ERR,
			   "%s: bound to %s, not to a DPDK driver: bind it to vfio-pci with "
			   "scripts/bind-nic.sh %s (doc/deploy-bare-metal.md)",
			   addr, driver[0] != '\0' ? driver : "no driver", addr);
		return;
	}
	if (strcmp(driver, "vfio-pci") == 0 && group[0] == '\0') {
		EGRESS_LOG(ERR,
			   "%s: bound to vfio-pci but in no IOMMU group: turn the IOMMU on "
			   "(intel_iommu=on or amd_iommu=on on the kernel command line, VT-d / "
			   "AMD-Vi in the BIOS), see doc/deploy-bare-metal.md",
			   addr);
		return;
	}
	if (strcmp(driver, "vfio-pci") == 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%s", group);
		if (access(path, R_OK | W_OK) != 0) {
			EGRESS_LOG(
				ERR,
				"%s: IOMMU group %s (%s) cannot be opened: run as root or give "
				"egressd's user the group's device; every device of the group "
				"must be bound to vfio-pci (ls /sys/kernel/iommu_groups/%s/devices)",
				addr, group, path, group);
			return;
		}
	}
	EGRESS_LOG(ERR,
		   "%s: bound to %s, yet DPDK did not probe it: did EAL get --no-pci, or an "
		   "-a/--allow list without it? (the EAL messages above say more)",
		   addr, driver);
}

/* Configure (conf), set up n_queues queue pairs of rxd / txd descriptors, start. */
static int
port_start(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues,
	   struct rte_mempool *pool, const struct rte_eth_conf *conf, uint16_t rxd, uint16_t txd)
{
	int socket = rte_eth_dev_socket_id(port_id);
	unsigned int q;
	int rc;

	rc = rte_eth_dev_configure(port_id, (uint16_t)n_queues, (uint16_t)n_queues, conf);
	if (rc != 0)
		return rc;
	rc = port_desc(port_id, pc, &rxd, &txd);
	if (rc != 0)
		return rc;
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, (uint16_t)q, rxd, (unsigned int)socket, NULL,
					    pool);
		if (rc != 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port_id, (uint16_t)q, txd, (unsigned int)socket, NULL);
		if (rc != 0)
			return rc;
	}
	return rte_eth_dev_start(port_id);
}

/*
 * poll.idle: interrupt: the started port gives each RX queue an event that
 * a worker can wait for (dp_worker_irq_setup()). A device without RX
 * interrupts (net_af_packet, net_pcap, ...) takes intr_conf.rxq without a
 * word and has none: asked here, once, rather than by each worker.
 */
static bool
port_rx_intr_ok(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues)
{
	unsigned int q;

	for (q = 0; q < n_queues; q++) {
		if (rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, (uint16_t)q) < 0) {
			EGRESS_LOG(WARNING,
				   "%s: no RX interrupts (the device gives RX queue %u no event "
				   "to wait for): its workers back off instead (poll.idle: "
				   "interrupt falls back to backoff)",
				   pc->device, q);
			return false;
		}
	}
	return true;
}

int
port_setup(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues,
	   struct rte_mempool *pool, bool rx_intr, struct dp_port_conf *dpc, bool *lsc)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t rxd = port_rx_desc(pc), txd = port_tx_desc(pc);
	uint8_t rss_key[PORT_RSS_KEY_MAX];
	struct rte_ether_addr mac;
	int rc;

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return rc;
	if (info.max_rx_queues < n_queues || info.max_tx_queues < n_queues) {
		EGRESS_LOG(ERR,
			   "%s: %u workers need %u RX and TX queues; the device has %u/%u "
			   "(net_af_packet: add qpairs=%u)",
			   pc->device, n_queues, n_queues, info.max_rx_queues, info.max_tx_queues,
			   n_queues);
		return -EINVAL;
	}
	rc = port_mtu(pc, &info);
	if (rc != 0)
		return rc;
	conf.rxmode.mtu = pc->mtu;
	dpc->parse_flags = 0; /* checksums: per packet, from the mbuf's flags */
	dpc->offloads = 0;
	port_offloads(pc, &info, &conf, dpc);
	if (n_queues > 1)
		port_rss(pc, &info, &conf, rss_key, sizeof(rss_key));
	/* link changes as interrupts where the device has them; the control
	 * thread reads the others' links every second (ctl_link_poll()) */
	*lsc = (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
	conf.intr_conf.lsc = *lsc;
	/* RX interrupts only for poll.idle: interrupt; a device that refuses
	 * them still starts, without */
	conf.intr_conf.rxq = rx_intr;
	rc = port_start(port_id, pc, n_queues, pool, &conf, rxd, txd);
	if (rc != 0 && rx_intr) {
		EGRESS_LOG(WARNING,
			   "%s: no RX interrupts (the device does not start with them: %s): its "
			   "workers back off instead (poll.idle: interrupt falls back to backoff)",
			   pc->device, strerror(-rc));
		rte_eth_dev_stop(port_id);
		conf.intr_conf.rxq = 0;
		rc = port_start(port_id, pc, n_queues, pool, &conf, rxd, txd);
	}
	if (rc != 0)
		return rc;
	dpc->rx_intr = conf.intr_conf.rxq && port_rx_intr_ok(port_id, pc, n_queues);
	/* frames to other MACs are dropped anyway (l2_not_for_us): the NIC
	 * need not deliver them. Not every device can say (virtio without a
	 * control queue): then it is only logged. */
	rc = rte_eth_promiscuous_disable(port_id);
	if (rc != 0)
		EGRESS_LOG(INFO, "%s: promiscuous mode not turned off: %s", pc->device,
			   strerror(-rc));
	rc = rte_eth_macaddr_get(port_id, &mac);
	if (rc != 0)
		return rc;
	memcpy(dpc->mac, mac.addr_bytes, sizeof(dpc->mac));
	dpc->port_id = port_id;
	return 0;
}

uint16_t
port_rx_desc(const struct egress_port_cfg *pc)
{
	return pc->rx_desc != 0 ? pc->rx_desc : PORT_RX_DESC;
}

uint16_t
port_tx_desc(const struct egress_port_cfg *pc)
{
	return pc->tx_desc != 0 ? pc->tx_desc : PORT_TX_DESC;
}

/* An LSC callback's argument: which port of which control state. */
struct link_watch {
	struct ctl *c;
	enum dp_port port;
	bool registered;
};

static struct link_watch link_watch[DP_NPORTS];

/* EAL's interrupt thread: only recorded, the control thread reads and logs it. */
static int
on_lsc(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret)
{
	struct link_watch *lw = arg;

	(void)port_id;
	(void)type;
	(void)ret;
	ctl_link_event(lw->c, lw->port);
	return 0;
}

void
port_watch_links(struct ctl *c, const bool *lsc)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		struct link_watch *lw = &link_watch[p];

		c->link[p].lsc = false;
		if (!lsc[p])
			continue;
		lw->c = c;
		lw->port = (enum dp_port)p;
		if (rte_eth_dev_callback_register(c->conf->port[p].port_id, RTE_ETH_EVENT_INTR_LSC,
						  on_lsc, lw) != 0) {
			EGRESS_LOG(WARNING,
				   "%s: no link state events; the link is read every %u ms",
				   c->cfg->port[p].device, CTL_LINK_POLL_MS);
			continue;
		}
		lw->registered = true;
		c->link[p].lsc = true;
	}
}

void
port_unwatch_links(struct ctl *c)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		struct link_watch *lw = &link_watch[p];

		if (!lw->registered)
			continue;
		rte_eth_dev_callback_unregister(c->conf->port[p].port_id, RTE_ETH_EVENT_INTR_LSC,
						on_lsc, lw);
		lw->registered = false;
	}
}
