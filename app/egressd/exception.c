/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception TAPs (exception.h): the DPDK side is a net_tap port the
 * control thread alone drives (lib/ctl/exception.c); the kernel side is an
 * interface with the port's address, where the host's routing daemon and
 * sshd see the frames for the listed protocols and answer as the appliance.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "exception.h"
#include "log.h"

EGRESS_LOG_TYPE(app);

static const char *const role[DP_NPORTS] = { "inside", "outside" };

/*
 * IPv6 off on the interface before it comes up: the kernel would send
 * router and neighbour solicitations nobody answers (the path is IPv4's).
 */
static void
ipv6_off(const char *ifname)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "w");
	if (f == NULL)
		return; /* no IPv6 in this kernel: nothing to turn off */
	fputs("1\n", f);
	if (fclose(f) != 0)
		EGRESS_LOG(WARNING,
			   "%s: cannot turn IPv6 off (%s): the kernel's IPv6 frames "
			   "are dropped",
			   ifname, strerror(errno));
}

/* The port's address and prefix on the kernel interface; its MAC read back. */
static int
host_side(const struct egress_port_cfg *pc, uint8_t mac[6])
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	uint32_t mask = pc->prefix_len ? UINT32_MAX << (32 - pc->prefix_len) : 0;
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pc->exception.tap);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = pc->addr;
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		rc = -errno;
	sin->sin_addr.s_addr = htonl(mask);
	if (rc == 0 && ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		rc = -errno;
	if (rc == 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

static int
tap_start(uint16_t id, const struct egress_port_cfg *pc, struct rte_mempool *pool, int socket)
{
	struct rte_eth_conf ec;
	int rc;

	memset(&ec, 0, sizeof(ec));
	rc = rte_eth_dev_configure(id, 1, 1, &ec);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(id, 0, EXC_DESC, (unsigned int)socket, NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(id, 0, EXC_DESC, (unsigned int)socket, NULL);
	/* net_tap sets the kernel interface's MTU too */
	if (rc == 0)
		rc = rte_eth_dev_set_mtu(id, pc->mtu);
	if (rc == 0)
		rc = rte_eth_dev_start(id);
	return rc;
}

int
exception_setup(const struct egress_port_cfg *pc, enum dp_port p, struct rte_mempool *pool,
		int socket, struct dp_exception *dx, struct ctl_exception *x)
{
	char name[32], dev[80];
	uint16_t id;
	int rc;

	snprintf(name, sizeof(name), "net_tap_exc_%s", role[p]);
	snprintf(dev, sizeof(dev), "%s,iface=%s", name, pc->exception.tap);
	rc = rte_dev_probe(dev);
	if (rc == 0)
		rc = rte_eth_dev_get_port_by_name(name, &id);
	if (rc < 0) {
		EGRESS_LOG(ERR,
			   "ports.%s.exception: cannot create TAP \"%s\": %s (egressd needs "
			   "CAP_NET_ADMIN and /dev/net/tun; is an interface of that name there "
			   "already?)",
			   role[p], pc->exception.tap, strerror(-rc));
		return rc;
	}
	x->port_id = id;
	ipv6_off(pc->exception.tap);
	rc = host_side(pc, x->host_mac);
	if (rc < 0) {
		EGRESS_LOG(ERR, "ports.%s.exception: cannot give %s the port's address: %s",
			   role[p], pc->exception.tap, strerror(-rc));
		goto fail;
	}
	rc = tap_start(id, pc, pool, socket);
	if (rc < 0) {
		EGRESS_LOG(ERR, "ports.%s.exception: cannot start TAP %s: %s", role[p],
			   pc->exception.tap, strerror(-rc));
		goto fail;
	}
	dx->ring = rte_ring_create(p == DP_INSIDE ? "exc_in" : "exc_out", EXC_RING_SIZE, socket,
				   RING_F_SC_DEQ);
	if (dx->ring == NULL) {
		rc = -ENOMEM;
		EGRESS_LOG(ERR, "ports.%s.exception: no memory for its ring", role[p]);
		goto fail;
	}
	x->on = true;
	EGRESS_LOG(INFO, "ports.%s.exception: TAP %s (port %u), %u protocol(s) to the host",
		   role[p], pc->exception.tap, id, pc->exception.n_protos);
	return 0;
fail:
	rte_eth_dev_stop(id);
	rte_eth_dev_close(id);
	return rc;
}

void
exception_teardown(struct dp_exception *dx, struct ctl_exception *x)
{
	void *m;

	if (x->on) {
		rte_eth_dev_stop(x->port_id);
		rte_eth_dev_close(x->port_id);
		x->on = false;
	}
	if (dx->ring != NULL) {
		while (rte_ring_dequeue(dx->ring, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dx->ring);
		dx->ring = NULL;
	}
}
