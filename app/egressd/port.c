/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's ports: finding the configured devices and setting them up from
 * what each one offers (rte_eth_dev_info).
 */
#include <errno.h>
#include <string.h>

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

int
port_setup(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues,
	   struct rte_mempool *pool, struct dp_port_conf *dpc)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t rxd = PORT_RX_DESC, txd = PORT_TX_DESC;
	int socket = rte_eth_dev_socket_id(port_id);
	uint64_t cksum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
			 RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	struct rte_ether_addr mac;
	unsigned int q;
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
	if ((info.rx_offload_capa & cksum) == cksum) {
		conf.rxmode.offloads |= cksum;
		dpc->parse_flags = 0; /* per packet, from the mbuf's flags */
	}
	if (n_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	rc = rte_eth_dev_configure(port_id, (uint16_t)n_queues, (uint16_t)n_queues, &conf);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
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
	if (rte_eth_dev_set_mtu(port_id, pc->mtu) != 0)
		EGRESS_LOG(INFO, "%s: MTU %u not set on the device; egressd enforces it itself",
			   pc->device, pc->mtu);
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return rc;
	rc = rte_eth_macaddr_get(port_id, &mac);
	if (rc != 0)
		return rc;
	memcpy(dpc->mac, mac.addr_bytes, sizeof(dpc->mac));
	dpc->port_id = port_id;
	return 0;
}
