/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.X.exception: the control-plane exception path (doc/configuration.md).
 *
 *   exception:
 *     tap: egx-out                    # the kernel interface egressd creates
 *     protocols: [tcp/179, udp/3784]  # what goes to it
 *
 * Each value is checked on its own while the port is read; what needs the
 * other port (one interface name for both) once everything is read.
 *
 * Control thread only.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config_private.h"

static const char *const exception_keys[] = { "tap", "protocols", NULL };

/*
 * A Linux interface name (dev_valid_name()): 1-15 bytes, not "." or "..",
 * no '/', ':' or white space. Stricter here: letters, digits, '-', '_', '.'.
 */
static bool
ifname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= EGRESS_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* "tcp/N" or "udp/N", N 1-65535. */
static bool
parse_proto(const char *s, struct egress_exception_proto *p)
{
	uint64_t port;

	if (strncmp(s, "tcp/", 4) == 0)
		p->proto = IPPROTO_TCP;
	else if (strncmp(s, "udp/", 4) == 0)
		p->proto = IPPROTO_UDP;
	else
		return false;
	if (yparse_uint(s + 4, UINT16_MAX, &port) < 0 || port == 0)
		return false;
	p->port = (uint16_t)port;
	return true;
}

static void
parse_protocols(struct cfg_ctx *c, const struct ynode *v, enum egress_port_role r)
{
	struct egress_exception_cfg *x = &c->cfg->port[r].exception;
	size_t i, mark = yr_key(&c->r, "protocols");
	unsigned int k;

	if (v->type != YNODE_SEQ) {
		yr_err(&c->r, v, "expected a list of PROTOCOL/PORT, got %s", yr_describe(&c->r, v));
		goto out;
	}
	if (v->n == 0)
		yr_err(&c->r, v, "empty list (want at least one of tcp/PORT, udp/PORT)");
	for (i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		struct egress_exception_proto p;
		size_t m2;

		if (i == EGRESS_MAX_EXCEPTION) {
			yr_err(&c->r, e, "too many protocols (limit %d)", EGRESS_MAX_EXCEPTION);
			break;
		}
		m2 = yr_idx(&c->r, i);
		if (yr_scalar(&c->r, e, "PROTOCOL/PORT") == NULL) {
			yr_pop(&c->r, m2);
			continue;
		}
		if (!parse_proto(e->str, &p)) {
			yr_err(&c->r, e,
			       "invalid protocol %s (want tcp/PORT or udp/PORT, PORT 1-65535)",
			       yr_quote_node(&c->r, e));
		} else {
			for (k = 0; k < x->n_protos; k++)
				if (x->proto[k].proto == p.proto && x->proto[k].port == p.port)
					break;
			if (k < x->n_protos) {
				yr_err(&c->r, e, "duplicate %s", yr_quote_node(&c->r, e));
			} else {
				x->proto[x->n_protos++] = p;
			}
		}
		yr_pop(&c->r, m2);
	}
out:
	yr_pop(&c->r, mark);
}

void
cfg_parse_exception(struct cfg_ctx *c, const struct ynode *m, enum egress_port_role r)
{
	struct egress_exception_cfg *x = &c->cfg->port[r].exception;
	const struct ynode *e, *v;
	size_t mark, m2;

	e = cfg_section(c, m, "exception", exception_keys, &mark);
	if (e == NULL)
		return;
	v = cfg_need(c, e, "tap");
	m2 = yr_key(&c->r, "tap");
	if (v != NULL && yr_scalar(&c->r, v, "an interface name") != NULL) {
		if (!ifname_ok(v->str))
			yr_err(&c->r, v,
			       "invalid interface name %s (want 1-%d of letters, digits, '-', "
			       "'_', '.')",
			       yr_quote_node(&c->r, v), EGRESS_IFNAME_MAX - 1);
		else {
			snprintf(x->tap, sizeof(x->tap), "%s", v->str);
			c->exc_tap[r] = v;
		}
	}
	yr_pop(&c->r, m2);
	v = cfg_need(c, e, "protocols");
	if (v != NULL)
		parse_protocols(c, v, r);
	yr_pop(&c->r, mark);
}

/* One TAP per port. (A listed port inside nat.ports on the port's own
 * address, a NAT address, is no error: the NAT never binds it there, see
 * lib/nat/nat.h, Holes; egressd logs the ports it skips.) */
void
cfg_check_exceptions(struct cfg_ctx *c)
{
	const struct egress_config *cfg = c->cfg;
	const struct egress_exception_cfg *in = &cfg->port[EGRESS_PORT_INSIDE].exception;

	if (c->exc_tap[EGRESS_PORT_INSIDE] != NULL && c->exc_tap[EGRESS_PORT_OUTSIDE] != NULL &&
	    strcmp(in->tap, cfg->port[EGRESS_PORT_OUTSIDE].exception.tap) == 0) {
		size_t mark = yr_push(&c->r, "ports.outside.exception.tap");

		yr_err(&c->r, c->exc_tap[EGRESS_PORT_OUTSIDE], "%s is ports.inside's TAP too",
		       yr_quote_node(&c->r, c->exc_tap[EGRESS_PORT_OUTSIDE]));
		yr_pop(&c->r, mark);
	}
}
