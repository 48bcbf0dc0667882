/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What egressd --check prints: where outbound comes from, the Gateways that
 * select this appliance, then the compiled allowlist, one line per rule.
 * Writes only to the stream it is given.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>

#include "compile_private.h"

const char *
policy_lb_name(unsigned int lb)
{
	static const char *const names[] = {
		[POLICY_LB_RANDOM] = "RANDOM",
		[POLICY_LB_ROUND_ROBIN] = "ROUND_ROBIN",
		[POLICY_LB_LEAST_CONN] = "LEAST_CONN",
		[POLICY_LB_CONSISTENT_SOURCE_IP] = "CONSISTENT_SOURCE_IP",
	};

	return lb < sizeof(names) / sizeof(names[0]) ? names[lb] : "?";
}

static const char *
proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static void
print_ip(FILE *out, uint32_t ip_host)
{
	fprintf(out, "%u.%u.%u.%u", ip_host >> 24, (ip_host >> 16) & 0xff, (ip_host >> 8) & 0xff,
		ip_host & 0xff);
}

static void
print_gateways(const struct policy *p, FILE *out)
{
	const struct policy_store *st = p->strings;
	unsigned int g, s, h;

	if (st == NULL)
		return;
	for (g = 0; g < st->m.n_gateways; g++) {
		const struct gateway *gw = &st->m.gateways[g];

		if (!gw->selects_us)
			continue;
		fprintf(out, "# gateway %s%s%s (%s:%u) selects this appliance\n", gw->ns,
			gw->ns[0] != '\0' ? "/" : "", gw->name, gw->pos.file, gw->pos.line);
		for (s = 0; s < gw->n_servers; s++) {
			const struct gw_server *sv = &gw->servers[s];

			fprintf(out, "#   server %u/%s hosts ", sv->port,
				sv->protocol != NULL ? sv->protocol : "");
			for (h = 0; h < sv->n_hosts; h++)
				fprintf(out, "%s%s", h > 0 ? "," : "", sv->hosts[h]);
			if (sv->tls_mode != NULL)
				fprintf(out, " tls %s", sv->tls_mode);
			fputc('\n', out);
		}
	}
}

/* The DestinationRule / VirtualService column: "-" when nothing applies. */
static void
print_effects(const struct policy_rule *r, FILE *out)
{
	bool any = false;

	if (r->max_connections > 0) {
		fprintf(out, "maxconn=%u(cap %u)", r->max_connections, r->cap_id);
		any = true;
	}
	if (r->connect_timeout_ms > 0) {
		fprintf(out, "%sconnect=%" PRIu64 "ms", any ? " " : "", r->connect_timeout_ms);
		any = true;
	}
	if (r->n_targets > 1 || r->lb != POLICY_LB_RANDOM) {
		fprintf(out, "%slb=%s", any ? " " : "", policy_lb_name(r->lb));
		any = true;
	}
	if (r->dr != NULL) {
		fprintf(out, "%sdr=%s", any ? " " : "", r->dr);
		any = true;
	}
	if (r->route != NULL) {
		fprintf(out, "%svs=%s", any ? " " : "", r->route);
		any = true;
	}
	if (!any)
		fputc('-', out);
}

void
policy_print(const struct policy *p, FILE *out)
{
	uint32_t i, t;

	if (p->outbound_from != NULL)
		fprintf(out, "# outbound %s (%s)\n", outbound_name(p->outbound), p->outbound_from);
	else
		fprintf(out, "# outbound %s (policy.outbound)\n", outbound_name(p->outbound));
	print_gateways(p, out);
	fprintf(out, "# %u rule%s, %u target%s, %u connection cap%s\n", p->n_rules,
		p->n_rules == 1 ? "" : "s", p->n_targets, p->n_targets == 1 ? "" : "s", p->n_caps,
		p->n_caps == 1 ? "" : "s");
	fprintf(out, "# source\tserviceentry\tdestination\tport\tprotocol\tnat\tpolicy\n");
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];

		fprintf(out, "%s:%u (doc %u)\t%s\t", r->file, r->line, r->doc, r->name);
		print_ip(out, r->dst_ip);
		fprintf(out, "/%u", r->prefix_len);
		if (r->dst_name != NULL)
			fprintf(out, " (%s)", r->dst_name);
		fprintf(out, "\t%u\t%s\tsnat", r->port, proto_name(r->proto));
		if (r->n_targets == 0 && r->target_port != 0)
			fprintf(out, " dnat :%u", r->target_port);
		for (t = 0; t < r->n_targets; t++) {
			const struct policy_target *pt = &p->targets[r->first_target + t];
			const char *from = p->target_names != NULL ?
						   p->target_names[r->first_target + t] :
						   NULL;

			fputs(t == 0 ? " dnat " : ",", out);
			print_ip(out, ntohl(pt->ip));
			fprintf(out, ":%u w%u",
				pt->port       ? pt->port :
				r->target_port ? r->target_port :
						 r->port,
				pt->weight);
			if (from != NULL)
				fprintf(out, " (%s)", from);
		}
		fputc('\t', out);
		print_effects(r, out);
		fputc('\n', out);
	}
}
