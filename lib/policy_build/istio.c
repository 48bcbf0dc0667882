/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Istio networking loader: ServiceEntry, Gateway, DestinationRule,
 * VirtualService and Sidecar YAML
 * (networking.istio.io v1alpha3 / v1beta1 / v1) read into the policy model and
 * validated with Istio's own rules and messages where Istio has them, plus the
 * checks an L4 gateway needs (an entry that opens every destination, an
 * address that is the appliance itself, host bits in a CIDR, ...).
 *
 * The loader never stops at the first problem: every diagnostic carries the
 * file, line and column of the offending node and its YAML path
 * ("spec.ports[0].number: ..."), so that one run of `egressd --check` shows an
 * operator everything there is to fix. Unknown fields are warnings, never
 * errors: users apply the YAML they already have, and Istio adds fields.
 *
 * Control thread only: allocates freely, never logs or prints.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "istio_private.h"
#include "ydoc.h"

#define ISTIO_GROUP "networking.istio.io"

/* ------------------------------------------------------------------ */
/* Documents                                                           */

static const char *const resource_fields[] = {
	"apiVersion", "kind", "metadata", "spec", "status", NULL,
};
static const char *const list_fields[] = { "apiVersion", "kind", "metadata", "items", NULL };

/*
 * A resource whose apiVersion and kind are read (kind is not a List): an
 * Istio networking kind is loaded, anything else skipped with a warning.
 */
static void
load_kind(struct ld *ld, const struct ynode *res, const char *api, const struct ynode *an,
	  const char *kind, const struct ynode *kn)
{
	const struct ynode *spec;
	const char *slash, *version;
	struct meta md;
	size_t mark;

	if (api == NULL || api[0] == '\0') {
		mark = yr_key(&ld->r, "apiVersion");
		yr_err(&ld->r, an != NULL ? an : res, "required field missing");
		yr_pop(&ld->r, mark);
		return;
	}
	slash = strchr(api, '/');
	if (slash == NULL || (size_t)(slash - api) != strlen(ISTIO_GROUP) ||
	    strncmp(api, ISTIO_GROUP, strlen(ISTIO_GROUP)) != 0) {
		/* a whole manifest may be mounted: other kinds are not our business */
		yr_warn(&ld->r, kn, "skipped: kind %s is not an Istio networking resource", kind);
		return;
	}
	version = slash + 1;
	if (strcmp(version, "v1alpha3") != 0 && strcmp(version, "v1beta1") != 0 &&
	    strcmp(version, "v1") != 0) {
		mark = yr_key(&ld->r, "apiVersion");
		yr_err(&ld->r, an,
		       "unsupported apiVersion %s (want " ISTIO_GROUP "/v1alpha3, v1beta1 or v1)",
		       api);
		yr_pop(&ld->r, mark);
		return;
	}
	if (strcmp(kind, "ServiceEntry") != 0 && strcmp(kind, "Gateway") != 0 &&
	    strcmp(kind, "DestinationRule") != 0 && strcmp(kind, "VirtualService") != 0 &&
	    strcmp(kind, "Sidecar") != 0) {
		yr_warn(&ld->r, kn, "skipped: kind %s is not handled by egressd", kind);
		return;
	}

	ld_unknown_fields(ld, res, resource_fields);
	if (ld_metadata(ld, res, &md) != 0 && md.name == NULL)
		md.name = "";
	spec = yr_get(&ld->r, res, "spec", YNODE_MAP);
	if (spec == NULL) {
		if (ymap_opt(res, "spec") == NULL) {
			mark = yr_key(&ld->r, "spec");
			yr_err(&ld->r, res, "required field missing");
			yr_pop(&ld->r, mark);
		}
		return;
	}
	if (strcmp(kind, "ServiceEntry") == 0)
		load_service_entry(ld, &md, spec);
	else if (strcmp(kind, "Gateway") == 0)
		load_gateway(ld, &md, spec);
	else if (strcmp(kind, "DestinationRule") == 0)
		load_destination_rule(ld, &md, spec);
	else if (strcmp(kind, "VirtualService") == 0)
		load_virtual_service(ld, &md, spec);
	else
		load_sidecar(ld, &md, spec);
}

/*
 * The apiVersion and kind of a resource (a document, or an item of a List).
 * @return the kind, or NULL after "kind: required field missing".
 */
static const char *
resource_kind(struct ld *ld, const struct ynode *res, const char **api, const struct ynode **an,
	      const struct ynode **kn)
{
	const char *kind;
	size_t mark;

	*api = yr_get_str(&ld->r, res, "apiVersion", an);
	kind = yr_get_str(&ld->r, res, "kind", kn);
	if (kind == NULL || kind[0] == '\0') {
		mark = yr_key(&ld->r, "kind");
		yr_err(&ld->r, *kn != NULL ? *kn : res, "required field missing");
		yr_pop(&ld->r, mark);
		return NULL;
	}
	return kind;
}

/* An item of a List: any resource but another List. */
static void
load_list_item(struct ld *ld, const struct ynode *res)
{
	const struct ynode *an, *kn;
	const char *api, *kind = resource_kind(ld, res, &api, &an, &kn);

	if (kind == NULL)
		return;
	if (strcmp(kind, "List") == 0)
		yr_err(&ld->r, ymap_get(res, "kind"), "a List cannot contain a List");
	else
		load_kind(ld, res, api, an, kind, kn);
}

static void
load_list(struct ld *ld, const struct ynode *res)
{
	const struct ynode *items;
	size_t i, mark;

	ld_unknown_fields(ld, res, list_fields);
	items = yr_get(&ld->r, res, "items", YNODE_SEQ);
	for (i = 0; items != NULL && i < items->n; i++) {
		const struct ynode *it = items->items[i];

		mark = yr_push(&ld->r, "items[%zu]", i);
		if (it->type != YNODE_MAP)
			yr_err(&ld->r, it, "expected a mapping (a Kubernetes resource), got %s",
			       yr_describe(&ld->r, it));
		else
			load_list_item(ld, it);
		yr_pop(&ld->r, mark);
	}
}

/* One document: a resource, or a List of them. */
static void
load_resource(struct ld *ld, const struct ynode *res)
{
	const struct ynode *an, *kn;
	const char *api, *kind = resource_kind(ld, res, &api, &an, &kn);

	if (kind == NULL)
		return;
	if (strcmp(kind, "List") == 0)
		load_list(ld, res);
	else
		load_kind(ld, res, api, an, kind, kn);
}

static void
load_yfile(struct ld *ld, const struct yfile *yf)
{
	size_t i;

	for (i = 0; i < yf->n_docs; i++) {
		const struct ydoc *d = &yf->docs[i];

		ld->doc = d->index;
		yr_pop(&ld->r, 0);
		if (d->root == NULL)
			continue;
		if (d->root->type != YNODE_MAP) {
			yr_err(&ld->r, d->root,
			       "expected a mapping (a Kubernetes resource), "
			       "got %s",
			       yr_describe(&ld->r, d->root));
			continue;
		}
		load_resource(ld, d->root);
	}
}

static void
ld_init(struct ld *ld, const struct egress_config *cfg, struct policy_model *m,
	struct diag_list *dl, const char *file)
{
	memset(ld, 0, sizeof(*ld));
	yr_init(&ld->r, file, dl, QUOTE_MAX);
	ld->cfg = cfg;
	ld->m = m;
	ld_own_init(ld);
}

static int
ld_result(struct ld *ld, size_t errors_before, int rc)
{
	if (ld->oom) {
		diag_add(ld->r.dl, DIAG_ERROR, ld->r.file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (rc != 0 && rc != -EINVAL)
		return rc;
	return diag_errors(ld->r.dl) > errors_before ? -EINVAL : 0;
}

int
istio_load_buffer(const struct egress_config *cfg, struct policy_model *m, const char *name,
		  const char *buf, size_t len, struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct yfile yf = { 0 };
	const char *file;
	struct ld ld;
	int rc;

	file = model_add_file(m, name);
	if (file == NULL) {
		diag_add(dl, DIAG_ERROR, name, 0, 0, "out of memory");
		return -ENOMEM;
	}
	ld_init(&ld, cfg, m, dl, file);
	rc = yfile_parse(&yf, name, buf, len, dl);
	if (rc == 0)
		load_yfile(&ld, &yf);
	yfile_free(&yf);
	return ld_result(&ld, errors_before, rc);
}

int
istio_load_file(const struct egress_config *cfg, struct policy_model *m, const char *path,
		struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct yfile yf = { 0 };
	const char *file;
	struct ld ld;
	int rc;

	file = model_add_file(m, path);
	if (file == NULL) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	ld_init(&ld, cfg, m, dl, file);
	rc = yfile_load(&yf, path, dl);
	if (rc == 0)
		load_yfile(&ld, &yf);
	yfile_free(&yf);
	/* an I/O failure that the reader did not describe must still be seen */
	if (rc != 0 && diag_errors(dl) == errors_before)
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot load: %s", strerror(-rc));
	return ld_result(&ld, errors_before, rc);
}

/* ------------------------------------------------------------------ */
/* Sources: files and folders                                          */

static bool
has_yaml_suffix(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files already loaded in this run, by real path: a file named twice loads once. */
struct seen {
	char **v;
	unsigned int n;
};

static bool
seen_add(struct seen *seen, const char *path, bool *oom)
{
	char *real = realpath(path, NULL);
	char **v;
	unsigned int i;

	if (real == NULL)
		return false; /* the load reports why */
	for (i = 0; i < seen->n; i++) {
		if (strcmp(seen->v[i], real) == 0) {
			free(real);
			return true;
		}
	}
	v = model_grow(seen->v, seen->n, sizeof(*v));
	if (v == NULL) {
		*oom = true;
		free(real);
		return false;
	}
	seen->v = v;
	seen->v[seen->n++] = real;
	return false;
}

static void
seen_free(struct seen *seen)
{
	unsigned int i;

	for (i = 0; i < seen->n; i++)
		free(seen->v[i]);
	free(seen->v);
}

/*
 * A folder: its *.yaml / *.yml entries in name order, dotfiles skipped. In a
 * Kubernetes ConfigMap volume the visible names are symlinks through the
 * "..data" symlink into a "..<timestamp>" folder: stat() follows them, and the
 * dot-named entries themselves are skipped, so every file loads once.
 */
static int
load_dir(const struct egress_config *cfg, struct policy_model *m, const char *dir,
	 struct diag_list *dl, struct seen *seen, bool *oom)
{
	char **names = NULL;
	unsigned int n = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL) {
		rc = -errno; /* before diag_add() can change errno */
		diag_add(dl, DIAG_ERROR, dir, 0, 0, "cannot open folder: %s", strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char **v;

		if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
			continue;
		v = model_grow(names, n, sizeof(*v));
		if (v == NULL)
			goto nomem;
		names = v;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	d = NULL;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	if (n == 0)
		diag_add(dl, DIAG_WARNING, dir, 0, 0, "no *.yaml or *.yml files in this folder");

	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat st;
		int r;

		if (path == NULL)
			goto nomem;
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 names[i]);
		if (stat(path, &st) != 0) {
			diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
			rc = -EINVAL;
		} else if (!S_ISREG(st.st_mode)) {
			diag_add(dl, DIAG_WARNING, path, 0, 0, "not a regular file; skipped");
		} else if (!seen_add(seen, path, oom)) {
			r = istio_load_file(cfg, m, path, dl);
			if (r != 0 && (rc == 0 || r == -ENOMEM))
				rc = r;
		}
		free(path);
	}
	goto out;
nomem:
	*oom = true;
	rc = -ENOMEM;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Does a server of a Gateway that selects us carry port p for one of se's hosts? */
static bool
port_served(const struct policy_model *m, const struct service_entry *se, const struct se_port *p)
{
	unsigned int g, s, h, k;

	for (g = 0; g < m->n_gateways; g++) {
		const struct gateway *gw = &m->gateways[g];

		if (!gw->selects_us)
			continue;
		for (s = 0; s < gw->n_servers; s++) {
			const struct gw_server *srv = &gw->servers[s];

			if (srv->port != p->number)
				continue;
			for (h = 0; h < srv->n_hosts; h++)
				for (k = 0; k < se->n_hosts; k++)
					if (srv->hosts[h] != NULL && se->hosts[k] != NULL &&
					    istio_host_covers(srv->hosts[h], se->hosts[k]))
						return true;
		}
	}
	return false;
}

struct res_ref {
	const char *kind;
	const char *ns;
	const char *name;
	const struct ypos *pos;
	size_t order; /* load order: the first definition wins */
};

static int
cmp_res(const void *a, const void *b)
{
	const struct res_ref *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	if (c == 0)
		c = strcmp(x->ns, y->ns);
	if (c == 0)
		c = strcmp(x->name, y->name);
	return c;
}

static int
cmp_res_order(const void *a, const void *b)
{
	const struct res_ref *x = a, *y = b;
	int c = cmp_res(a, b);

	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

/*
 * Checks across files, once everything is loaded: a resource defined twice
 * (kubectl would keep only the last one: almost always a copy-paste mistake),
 * and ServiceEntry ports that no Gateway selecting this appliance serves.
 */
static int
check_model(const struct policy_model *m, struct diag_list *dl)
{
	size_t n = (size_t)m->n_ses + m->n_gateways + m->n_drs + m->n_vss + m->n_sidecars;
	size_t k = 0, i, first;
	struct res_ref *refs;
	unsigned int s, p;

	refs = n > 0 ? calloc(n, sizeof(*refs)) : NULL;
	if (n > 0 && refs == NULL)
		return -ENOMEM;
	for (i = 0; i < m->n_ses; i++)
		refs[k++] = (struct res_ref){ "ServiceEntry", m->ses[i].ns, m->ses[i].name,
					      &m->ses[i].pos };
	for (i = 0; i < m->n_gateways; i++)
		refs[k++] = (struct res_ref){ "Gateway", m->gateways[i].ns, m->gateways[i].name,
					      &m->gateways[i].pos };
	for (i = 0; i < m->n_drs; i++)
		refs[k++] = (struct res_ref){ "DestinationRule", m->drs[i].ns, m->drs[i].name,
					      &m->drs[i].pos };
	for (i = 0; i < m->n_vss; i++)
		refs[k++] = (struct res_ref){ "VirtualService", m->vss[i].ns, m->vss[i].name,
					      &m->vss[i].pos };
	for (i = 0; i < m->n_sidecars; i++)
		refs[k++] = (struct res_ref){ "Sidecar", m->sidecars[i].ns, m->sidecars[i].name,
					      &m->sidecars[i].pos };
	for (i = 0; i < k; i++) {
		refs[i].order = i;
		if (refs[i].ns == NULL || refs[i].name == NULL)
			refs[i].name = refs[i].ns = "";
	}
	if (k > 1)
		qsort(refs, k, sizeof(*refs), cmp_res_order);
	for (i = 1, first = 0; i < k; i++) {
		const struct res_ref *a, *b = &refs[i];

		if (cmp_res(&refs[first], b) != 0) {
			first = i;
			continue;
		}
		if (b->name[0] == '\0')
			continue;
		/* every later definition points at the first one */
		a = &refs[first];
		diag_add(dl, DIAG_ERROR, b->pos->file, b->pos->line, b->pos->col,
			 "metadata.name: %s %s%s%s already defined at %s:%u:%u", b->kind, b->ns,
			 b->ns[0] != '\0' ? "/" : "", b->name, a->pos->file, a->pos->line,
			 a->pos->col);
	}
	free(refs);

	/* Without any Gateway the ServiceEntries are the whole policy: nothing to say. */
	if (m->n_gateways == 0)
		return 0;
	for (s = 0; s < m->n_ses; s++) {
		const struct service_entry *se = &m->ses[s];

		for (p = 0; se->hidden == NULL && p < se->n_ports; p++) {
			const struct se_port *pt = &se->ports[p];

			if (pt->number == 0 || port_served(m, se, pt))
				continue;
			diag_add(dl, DIAG_WARNING, pt->pos.file, pt->pos.line, pt->pos.col,
				 "ServiceEntry %s: port %u is not served by any Gateway that "
				 "selects this appliance; admitted anyway",
				 se->name, pt->number);
		}
	}
	return 0;
}

int
istio_load_sources(const struct egress_config *cfg, struct policy_model *m, struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct seen seen = { 0 };
	bool oom = false;
	unsigned int i;
	int rc = 0, r;

	for (i = 0; cfg != NULL && i < cfg->n_sources; i++) {
		const char *src = cfg->sources[i];
		struct stat st;

		if (stat(src, &st) != 0) {
			diag_add(dl, DIAG_ERROR, src, 0, 0, "cannot read policy source: %s",
				 strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			r = load_dir(cfg, m, src, dl, &seen, &oom);
		} else if (!seen_add(&seen, src, &oom)) {
			r = istio_load_file(cfg, m, src, dl);
		} else {
			r = 0;
		}
		if (r == -ENOMEM)
			oom = true;
	}
	seen_free(&seen);
	if (!oom && check_model(m, dl) != 0)
		oom = true;
	if (oom) {
		diag_add(dl, DIAG_ERROR, cfg != NULL ? cfg->path : "policy", 0, 0, "out of memory");
		rc = -ENOMEM;
	} else if (diag_errors(dl) > errors_before) {
		rc = -EINVAL;
	}
	return rc;
}
