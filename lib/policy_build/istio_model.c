/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model's storage: arrays that grow as resources are loaded, the
 * files they were read from, and freeing all of it.
 *
 * Control thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "istio_private.h"

/* A copy of s ("" for NULL) for the model; NULL and ld->oom when out of memory. */
char *
ld_strdup(struct ld *ld, const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		ld->oom = true;
	return d;
}

/* calloc() for the model: NULL for n == 0; NULL and ld->oom when out of memory. */
void *
ld_calloc(struct ld *ld, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (p == NULL)
		ld->oom = true;
	return p;
}

/*
 * Make room for element n of an array that holds n: the capacity is implied by
 * n (4, then doubling whenever n reaches a power of two), so the model needs
 * no capacity fields and 100 000 entries cost O(log n) reallocations.
 */
void *
model_grow(void *v, unsigned int n, size_t size)
{
	if (n == 0)
		return realloc(v, 4 * size);
	if (n < 4 || (n & (n - 1)) != 0)
		return v;
	return realloc(v, (size_t)n * 2 * size);
}

const char *
model_add_file(struct policy_model *m, const char *path)
{
	char **files = model_grow(m->files, m->n_files, sizeof(*files));
	char *copy;

	if (files == NULL)
		return NULL;
	m->files = files;
	copy = strdup(path);
	if (copy == NULL)
		return NULL;
	m->files[m->n_files++] = copy;
	return copy;
}

static void
labels_free(struct egress_label *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void
se_free(struct service_entry *se)
{
	unsigned int i, j;

	free(se->name);
	free(se->ns);
	for (i = 0; i < se->n_hosts; i++)
		free(se->hosts[i]);
	free(se->hosts);
	free(se->addresses);
	for (i = 0; i < se->n_ports; i++) {
		free(se->ports[i].name);
		free(se->ports[i].protocol);
	}
	free(se->ports);
	for (i = 0; i < se->n_endpoints; i++) {
		free(se->endpoints[i].address);
		for (j = 0; j < se->endpoints[i].n_ports; j++)
			free(se->endpoints[i].ports[j].name);
		free(se->endpoints[i].ports);
		labels_free(se->endpoints[i].labels, se->endpoints[i].n_labels);
	}
	free(se->endpoints);
	memset(se, 0, sizeof(*se));
}

static void
gw_free(struct gateway *gw)
{
	unsigned int i, j;

	free(gw->name);
	free(gw->ns);
	for (i = 0; i < gw->n_selector; i++) {
		free(gw->selector[i].key);
		free(gw->selector[i].value);
	}
	free(gw->selector);
	for (i = 0; i < gw->n_servers; i++) {
		struct gw_server *s = &gw->servers[i];

		free(s->port_name);
		free(s->protocol);
		for (j = 0; j < s->n_hosts; j++)
			free(s->hosts[j]);
		free(s->hosts);
		free(s->tls_mode);
	}
	free(gw->servers);
	memset(gw, 0, sizeof(*gw));
}

static void
dr_free(struct destination_rule *dr)
{
	unsigned int i;

	free(dr->name);
	free(dr->ns);
	free(dr->host);
	for (i = 0; i < dr->n_subsets; i++) {
		free(dr->subsets[i].name);
		labels_free(dr->subsets[i].labels, dr->subsets[i].n_labels);
		free(dr->subsets[i].ports);
	}
	free(dr->subsets);
	free(dr->ports);
	memset(dr, 0, sizeof(*dr));
}

static void
strv_free(char **v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
vs_free(struct virtual_service *vs)
{
	unsigned int i, j;

	free(vs->name);
	free(vs->ns);
	strv_free(vs->hosts, vs->n_hosts);
	strv_free(vs->gateways, vs->n_gateways);
	for (i = 0; i < vs->n_routes; i++) {
		struct vs_route *r = &vs->routes[i];

		for (j = 0; j < r->n_matches; j++) {
			free(r->matches[j].subnets);
			strv_free(r->matches[j].gateways, r->matches[j].n_gateways);
		}
		free(r->matches);
		for (j = 0; j < r->n_dests; j++) {
			free(r->dests[j].host);
			free(r->dests[j].subset);
		}
		free(r->dests);
	}
	free(vs->routes);
	memset(vs, 0, sizeof(*vs));
}

static void
sidecar_free(struct sidecar *sc)
{
	free(sc->name);
	free(sc->ns);
	labels_free(sc->selector, sc->n_selector);
	memset(sc, 0, sizeof(*sc));
}

void
policy_model_free(struct policy_model *m)
{
	unsigned int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_ses; i++)
		se_free(&m->ses[i]);
	free(m->ses);
	for (i = 0; i < m->n_gateways; i++)
		gw_free(&m->gateways[i]);
	free(m->gateways);
	for (i = 0; i < m->n_drs; i++)
		dr_free(&m->drs[i]);
	free(m->drs);
	for (i = 0; i < m->n_vss; i++)
		vs_free(&m->vss[i]);
	free(m->vss);
	for (i = 0; i < m->n_sidecars; i++)
		sidecar_free(&m->sidecars[i]);
	free(m->sidecars);
	for (i = 0; i < m->n_files; i++)
		free(m->files[i]);
	free(m->files);
	memset(m, 0, sizeof(*m));
}

/* Move a parsed resource into the model; on failure it is freed. */
void
model_add_se(struct ld *ld, struct service_entry *se)
{
	struct service_entry *v = model_grow(ld->m->ses, ld->m->n_ses, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		se_free(se);
		return;
	}
	ld->m->ses = v;
	v[ld->m->n_ses++] = *se;
}

void
model_add_gw(struct ld *ld, struct gateway *gw)
{
	struct gateway *v = model_grow(ld->m->gateways, ld->m->n_gateways, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		gw_free(gw);
		return;
	}
	ld->m->gateways = v;
	v[ld->m->n_gateways++] = *gw;
}

void
model_add_dr(struct ld *ld, struct destination_rule *dr)
{
	struct destination_rule *v = model_grow(ld->m->drs, ld->m->n_drs, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		dr_free(dr);
		return;
	}
	ld->m->drs = v;
	v[ld->m->n_drs++] = *dr;
}

void
model_add_vs(struct ld *ld, struct virtual_service *vs)
{
	struct virtual_service *v = model_grow(ld->m->vss, ld->m->n_vss, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		vs_free(vs);
		return;
	}
	ld->m->vss = v;
	v[ld->m->n_vss++] = *vs;
}

void
model_add_sidecar(struct ld *ld, struct sidecar *sc)
{
	struct sidecar *v = model_grow(ld->m->sidecars, ld->m->n_sidecars, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		sidecar_free(sc);
		return;
	}
	ld->m->sidecars = v;
	v[ld->m->n_sidecars++] = *sc;
}

struct ypos
ld_pos(const struct ld *ld, const struct ynode *n)
{
	struct ypos p = {
		.file = ld->r.file,
		.doc = ld->doc,
		.line = n != NULL ? n->line : 0,
		.col = n != NULL ? n->col : 0,
	};
	return p;
}
