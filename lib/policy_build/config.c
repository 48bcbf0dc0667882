/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance config loader (the "Appliance config" contract of the design).
 *
 * One pass over the tree that ydoc built, read through a yreader: every key
 * is checked where it is read, with its YAML path and its value in the
 * message, and the loader goes on after an error so that one run reports
 * every problem. Checks that need two values (gateway in prefix, overlapping
 * prefixes, NAT addresses) run once both are known, and only when both were
 * valid on their own, so that one typo gives one error.
 *
 * This file: the whole file, the policy section (sources, labels), flows,
 * workers and poll; config_net.c reads ports, nat and metrics.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_private.h"

#define CFG_DEFAULT_FLOWS_MAX    1048576u
#define CFG_FLOWS_MIN            1024u
#define CFG_FLOWS_LIMIT          16777216u
#define CFG_DEFAULT_ESTABLISHED  (7440ull * 1000) /* RFC 5382 REQ-5: 2 h 4 min */
#define CFG_DEFAULT_TRANSITORY   (240ull * 1000)  /* RFC 5382 REQ-5: 4 min */
#define CFG_DEFAULT_TIME_WAIT    (120ull * 1000)  /* 2 MSL */
#define CFG_WORKERS_MAX          128
#define CFG_NEW_PER_SECOND_MAX   100000000u
#define CFG_LABEL_NAME_MAX       63
#define CFG_LABEL_PREFIX_MAX     253
#define CFG_QUOTE_MAX            64 /* bytes of a value in a message */
#define CFG_FLOWLOG_RATE_DEFAULT 100
#define CFG_FLOWLOG_RATE_MAX     1000000
#define CFG_FLOWLOG_RING_DEFAULT 65536 /* per worker: 4 MiB, seconds of a flood */
#define CFG_FLOWLOG_RING_MIN     16
#define CFG_FLOWLOG_RING_MAX     (1u << 24)
#define CFG_MAX_SLEEP_US_DEFAULT 1000
#define CFG_MAX_SLEEP_US_MAX     100000 /* 0.1 s: the watchdog and ARP stay prompt */

static const char *const top_keys[] = { "ports", "nat",     "policy", "flows", "workers", "metrics",
					"api",   "flowlog", "poll",   "sync",  NULL };
static const char *const api_keys[] = { "socket", NULL };
static const char *const poll_keys[] = { "idle", "max_sleep_us", NULL };
static const char *const flowlog_keys[] = { "path", "denied_per_second", "ring", NULL };
static const char *const policy_keys[] = {
	"outbound",  "deny",           "on_revoke",         "sources", "labels",
	"namespace", "root_namespace", "default_export_to", NULL,
};
/* policy.default_export_to, in enum egress_export_kind order */
static const char *const export_kinds[] = {
	"service_entry",
	"virtual_service",
	"destination_rule",
	NULL,
};
static const char *const flows_keys[] = {
	"max", "timeouts", "embryonic_max", "per_source", "tcp_liberal", "no_flow", NULL,
};
static const char *const timeouts_keys[] = { "established", "transitory", "time_wait", NULL };
static const char *const per_source_keys[] = { "max", "new_per_second", NULL };

/* Values of the enums, in enum order. */
static const char *const outbound_names[] = { "REGISTRY_ONLY", "ALLOW_ANY", NULL };
static const char *const deny_names[] = { "drop", "reset", NULL };
static const char *const no_flow_names[] = { "drop", "reset", NULL };
static const char *const revoke_names[] = { "reset", "drop", "keep", NULL };
static const char *const poll_idle_names[] = { "busy", "backoff", "interrupt", NULL };

/* A failed allocation: said once per place, without a YAML path. */
void
cfg_nomem(struct cfg_ctx *c)
{
	yr_diag_bare(&c->r, DIAG_ERROR, NULL, "out of memory");
}

/*
 * Check that n (at the current path) is a mapping, error otherwise, and warn
 * about every key that is not in known.
 */
bool
cfg_check_map(struct cfg_ctx *c, const struct ynode *n, const char *const *known)
{
	const struct ynode *k;
	size_t i = 0;

	if (n->type != YNODE_MAP) {
		if (c->r.path_len == 0)
			yr_err(&c->r, n, "expected a mapping at the top level, got %s",
			       ynode_kind(n));
		else
			yr_err(&c->r, n, "expected a mapping, got %s", ynode_kind(n));
		return false;
	}
	while ((k = ymap_next_unknown(n, known, &i)) != NULL) {
		if (c->r.path_len == 0)
			yr_warn(&c->r, k, "unknown key %s at the top level",
				yr_quote_node(&c->r, k));
		else
			yr_diag_bare(&c->r, DIAG_WARNING, k, "unknown key %s in %s",
				     yr_quote_node(&c->r, k), c->r.path);
	}
	return true;
}

/* The value of a required key of map (at the current path), or NULL after an error. */
const struct ynode *
cfg_need(struct cfg_ctx *c, const struct ynode *map, const char *key)
{
	const struct ynode *k = ymap_key(map, key);
	const struct ynode *v = ymap_get(map, key);
	size_t mark;

	if (k == NULL) {
		yr_err(&c->r, map, "missing required key \"%s\"", key);
		return NULL;
	}
	if (ynode_is_null(v) || (v->type == YNODE_SCALAR && v->len == 0)) {
		mark = yr_key(&c->r, key);
		yr_err(&c->r, k, "a value is required");
		yr_pop(&c->r, mark);
		return NULL;
	}
	return v;
}

/*
 * An optional section (a mapping) at key of map: NULL when absent, or after
 * the error when it is not a mapping; else the path is pushed (*mark to pop)
 * and its unknown keys warned about.
 */
const struct ynode *
cfg_section(struct cfg_ctx *c, const struct ynode *map, const char *key, const char *const *known,
	    size_t *mark)
{
	const struct ynode *n = ymap_opt(map, key);

	if (n == NULL)
		return NULL;
	*mark = yr_key(&c->r, key);
	if (cfg_check_map(c, n, known))
		return n;
	yr_pop(&c->r, *mark);
	return NULL;
}

int
cfg_strdup(struct cfg_ctx *c, const char *s, char **out)
{
	*out = strdup(s);
	if (*out == NULL) {
		cfg_nomem(c);
		return -ENOMEM;
	}
	return 0;
}

/* Kubernetes label name/value: up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
static bool
label_name_ok(const char *s, size_t len, bool may_be_empty)
{
	size_t i;

	if (len == 0)
		return may_be_empty;
	if (len > CFG_LABEL_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');

		if (!alnum && ((i == 0 || i == len - 1) || (ch != '-' && ch != '_' && ch != '.')))
			return false;
	}
	return true;
}

/* Label key: [PREFIX/]NAME, PREFIX a DNS subdomain (lower case, '.', '-'). */
static bool
label_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t i, plen;

	if (slash == NULL)
		return label_name_ok(s, len, false);
	plen = (size_t)(slash - s);
	if (plen == 0 || plen > CFG_LABEL_PREFIX_MAX)
		return false;
	for (i = 0; i < plen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.'))
			return false;
	}
	return label_name_ok(slash + 1, len - plen - 1, false);
}

/* policy.labels (the path is pushed). */
static void
parse_labels(struct cfg_ctx *c, const struct ynode *v)
{
	static const char *const want = "up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends";
	struct egress_config *cfg = c->cfg;
	size_t i;

	if (v->type != YNODE_MAP) {
		yr_err(&c->r, v, "expected a mapping of labels, got %s", ynode_kind(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->items[2 * i], *val = v->items[2 * i + 1];
		const char *text = "";
		struct egress_label *l;

		if (i == EGRESS_MAX_LABELS) {
			yr_err(&c->r, k, "too many labels (limit %d)", EGRESS_MAX_LABELS);
			return;
		}
		if (!label_key_ok(k->str, k->len)) {
			yr_err(&c->r, k, "invalid label key %s (want [PREFIX/]NAME, NAME %s)",
			       yr_quote_node(&c->r, k), want);
			continue;
		}
		if (val->type != YNODE_SCALAR) {
			yr_err(&c->r, val, "label %s: expected a string, got %s",
			       yr_quote_node(&c->r, k), ynode_kind(val));
			continue;
		}
		if (!ynode_is_null(val))
			text = val->str;
		if (!label_name_ok(text, strlen(text), true)) {
			yr_err(&c->r, val, "label %s: invalid value %s (want %s)",
			       yr_quote_node(&c->r, k), yr_quote_node(&c->r, val), want);
			continue;
		}
		l = &cfg->labels[cfg->n_labels];
		if (cfg_strdup(c, k->str, &l->key) < 0)
			return;
		if (cfg_strdup(c, text, &l->value) < 0) {
			free(l->key);
			l->key = NULL;
			return;
		}
		cfg->n_labels++;
	}
}

/* policy.namespace, policy.root_namespace: an RFC 1123 label (a Kubernetes namespace). */
static void
parse_namespace(struct cfg_ctx *c, const struct ynode *pol, const char *key, char **out)
{
	const struct ynode *v = ymap_opt(pol, key);
	size_t mark;

	if (v == NULL)
		return;
	mark = yr_key(&c->r, key);
	if (yr_scalar(&c->r, v, "a namespace") != NULL) {
		if (!istio_dns1123_label(v->str, v->len) || strlen(v->str) != v->len)
			yr_err(&c->r, v, "invalid namespace %s (want a lowercase RFC 1123 label)",
			       yr_quote_node(&c->r, v));
		else
			cfg_strdup(c, v->str, out);
	}
	yr_pop(&c->r, mark);
}

/*
 * policy.default_export_to: Istio's meshConfig.default{Service,VirtualService,
 * DestinationRule}ExportTo, a list per kind of ".", "*", "~" or namespaces,
 * of which Istio honours "." and "*" only (istio_common.c applies them).
 */
static void
parse_default_export_to(struct cfg_ctx *c, const struct ynode *pol)
{
	size_t mark, k, i, m2, m3;
	const struct ynode *m = cfg_section(c, pol, "default_export_to", export_kinds, &mark);

	if (m == NULL)
		return;
	for (k = 0; k < EGRESS_EXPORT_KINDS; k++) {
		struct egress_export_to *e = &c->cfg->default_export_to[k];
		const struct ynode *seq = ymap_opt(m, export_kinds[k]);

		m2 = yr_key(&c->r, export_kinds[k]);
		if (seq != NULL && seq->type != YNODE_SEQ)
			yr_err(&c->r, seq, "expected a list of namespaces, got %s",
			       ynode_kind(seq));
		for (i = 0; seq != NULL && seq->type == YNODE_SEQ && i < seq->n; i++) {
			const struct ynode *n = seq->items[i];
			const char *s;
			bool honoured;

			m3 = yr_idx(&c->r, i);
			s = yr_scalar(&c->r, n, "a namespace");
			if (s == NULL) {
				yr_pop(&c->r, m3);
				continue;
			}
			if (i == EGRESS_MAX_EXPORT_TO) {
				yr_err(&c->r, n, "too many entries (limit %d)",
				       EGRESS_MAX_EXPORT_TO);
				yr_pop(&c->r, m3);
				break;
			}
			honoured = strcmp(s, ".") == 0 || strcmp(s, "*") == 0;
			if (!honoured && strcmp(s, "~") != 0 &&
			    (!istio_dns1123_label(s, n->len) || strlen(s) != n->len)) {
				yr_err(&c->r, n,
				       "invalid entry %s (want \".\", \"*\", \"~\" or a "
				       "namespace)",
				       yr_quote_node(&c->r, n));
				yr_pop(&c->r, m3);
				continue;
			}
			if (!honoured) /* meshConfig takes them; push_context.go reads no more */
				yr_warn(&c->r, n,
					"Istio honours only \".\" and \"*\" in a mesh default "
					"exportTo: %s is ignored (a default without them exports "
					"to %s)",
					yr_quote_node(&c->r, n),
					k == EGRESS_EXPORT_DR ? "every namespace" : "no namespace");
			if (cfg_strdup(c, s, &e->v[e->n]) == 0)
				e->n++;
			yr_pop(&c->r, m3);
		}
		yr_pop(&c->r, m2);
	}
	yr_pop(&c->r, mark);
}

/*
 * Clean a path lexically: no empty or "." components, no trailing '/'.
 * ".." is kept: resolving it would be wrong across symlinks.
 */
static void
path_clean(char *p)
{
	bool abs = p[0] == '/';
	char *r = p, *w = p;

	if (abs)
		w++;
	while (*r != '\0') {
		char *end;
		size_t n;

		while (*r == '/')
			r++;
		end = r;
		while (*end != '\0' && *end != '/')
			end++;
		n = (size_t)(end - r);
		if (n == 0 || (n == 1 && r[0] == '.')) {
			r = end;
			continue;
		}
		if (w != p + abs)
			*w++ = '/';
		memmove(w, r, n);
		w += n;
		r = end;
	}
	if (w == p + abs && !abs)
		*w++ = '.';
	*w = '\0';
}

/* dir "/" name, cleaned; name when it is absolute. NULL on ENOMEM. */
static char *
path_join(const char *dir, const char *name)
{
	char *p;

	if (name[0] == '/' || dir == NULL)
		p = strdup(name);
	else if (asprintf(&p, "%s/%s", dir, name) < 0)
		p = NULL;
	if (p != NULL)
		path_clean(p);
	return p;
}

/* The config file's folder, absolute when the working directory is known. */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd = NULL, *dir, *abs;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL || dir[0] == '/')
		goto out;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		goto out;
	abs = path_join(cwd, dir);
	if (abs == NULL)
		goto out;
	free(dir);
	dir = abs;
out:
	free(cwd);
	if (dir != NULL)
		path_clean(dir);
	return dir;
}

/* One policy source (the path is pushed). */
static void
add_source(struct cfg_ctx *c, const struct ynode *v)
{
	struct egress_config *cfg = c->cfg;
	char *p;

	if (yr_scalar(&c->r, v, "a file or folder") == NULL)
		return;
	if (v->len == 0 || strlen(v->str) != v->len) {
		yr_err(&c->r, v, "empty path");
		return;
	}
	p = path_join(cfg->dir, v->str);
	if (p == NULL) {
		cfg_nomem(c);
		return;
	}
	cfg->sources[cfg->n_sources++] = p;
}

static void
parse_policy(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	size_t i, n, mark, m2, m3;
	const struct ynode *pol = cfg_section(c, root, "policy", policy_keys, &mark);
	const struct ynode *v;
	unsigned int e;

	if (pol == NULL)
		return;

	e = cfg->outbound;
	yr_get_enum(&c->r, pol, "outbound", outbound_names, NULL, &e);
	cfg->outbound = (enum egress_outbound)e;
	e = cfg->deny;
	yr_get_enum(&c->r, pol, "deny", deny_names, NULL, &e);
	cfg->deny = (enum egress_deny)e;
	e = cfg->on_revoke;
	yr_get_enum(&c->r, pol, "on_revoke", revoke_names, NULL, &e);
	cfg->on_revoke = (enum egress_revoke)e;

	v = ymap_opt(pol, "sources");
	m2 = yr_key(&c->r, "sources");
	if (v != NULL) {
		n = v->type == YNODE_SEQ ? v->n : 1;
		if (v->type == YNODE_MAP) {
			yr_err(&c->r, v, "expected a list of files or folders, got %s",
			       ynode_kind(v));
		} else if (n > 0) {
			cfg->sources = calloc(n, sizeof(*cfg->sources));
			if (cfg->sources == NULL)
				cfg_nomem(c);
		}
		if (cfg->sources != NULL && v->type == YNODE_SCALAR) {
			add_source(c, v);
		} else if (cfg->sources != NULL) {
			for (i = 0; i < n; i++) {
				m3 = yr_idx(&c->r, i);
				add_source(c, v->items[i]);
				yr_pop(&c->r, m3);
			}
		}
	}
	yr_pop(&c->r, m2);

	v = ymap_get(pol, "labels");
	if (v != NULL && !(v->type == YNODE_SCALAR && ynode_is_null(v))) {
		/* Given, even empty: it replaces the default. */
		for (i = 0; i < cfg->n_labels; i++) {
			free(cfg->labels[i].key);
			free(cfg->labels[i].value);
		}
		memset(cfg->labels, 0, sizeof(cfg->labels));
		cfg->n_labels = 0;
		m2 = yr_key(&c->r, "labels");
		parse_labels(c, v);
		yr_pop(&c->r, m2);
	}
	parse_namespace(c, pol, "namespace", &cfg->ns);
	parse_namespace(c, pol, "root_namespace", &cfg->root_namespace);
	parse_default_export_to(c, pol);
	yr_pop(&c->r, mark);
}

static void
parse_flows(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	size_t mark, m2;
	const struct ynode *flows = cfg_section(c, root, "flows", flows_keys, &mark);
	const struct ynode *v;
	unsigned int e;
	uint64_t x;

	if (flows == NULL)
		return;

	if (yr_get_uint(&c->r, flows, "max", CFG_FLOWS_MIN, CFG_FLOWS_LIMIT, NULL, &x) != NULL)
		cfg->flows_max = (uint32_t)x;

	v = ymap_opt(flows, "timeouts");
	m2 = yr_key(&c->r, "timeouts");
	if (v != NULL && cfg_check_map(c, v, timeouts_keys)) {
		yr_get_duration_ms(&c->r, v, "established", EGRESS_TIMEOUT_MAX_MS,
				   &cfg->timeout_established_ms);
		yr_get_duration_ms(&c->r, v, "transitory", EGRESS_TIMEOUT_MAX_MS,
				   &cfg->timeout_transitory_ms);
		yr_get_duration_ms(&c->r, v, "time_wait", EGRESS_TIMEOUT_MAX_MS,
				   &cfg->timeout_time_wait_ms);
	}
	yr_pop(&c->r, m2);

	c->embryonic = yr_get_uint(&c->r, flows, "embryonic_max", 1, CFG_FLOWS_LIMIT, NULL, &x);
	if (c->embryonic != NULL)
		cfg->embryonic_max = (uint32_t)x;

	v = ymap_opt(flows, "per_source");
	m2 = yr_key(&c->r, "per_source");
	if (v != NULL && cfg_check_map(c, v, per_source_keys)) {
		if (yr_get_uint(&c->r, v, "max", 0, CFG_FLOWS_LIMIT, NULL, &x) != NULL)
			cfg->per_source_max = (uint32_t)x;
		if (yr_get_uint(&c->r, v, "new_per_second", 0, CFG_NEW_PER_SECOND_MAX, NULL, &x) !=
		    NULL)
			cfg->per_source_new_per_second = (uint32_t)x;
	}
	yr_pop(&c->r, m2);

	yr_get_flag(&c->r, flows, "tcp_liberal", &cfg->tcp_liberal);
	e = cfg->no_flow;
	yr_get_enum(&c->r, flows, "no_flow", no_flow_names, NULL, &e);
	cfg->no_flow = (enum egress_no_flow)e;

	if (c->embryonic == NULL) {
		cfg->embryonic_max = cfg->flows_max / 4;
	} else if (cfg->embryonic_max > cfg->flows_max) {
		m2 = yr_key(&c->r, "embryonic_max");
		yr_err(&c->r, c->embryonic, "%s exceeds flows.max (%u)",
		       yr_quote_node(&c->r, c->embryonic), cfg->flows_max);
		yr_pop(&c->r, m2);
	}
	yr_pop(&c->r, mark);
}

/*
 * api: { socket: PATH }: egressctl's socket. Absolute, and short enough for
 * sun_path (108 bytes with its NUL): a longer one could not be bound.
 */
static void
parse_api(struct cfg_ctx *c, const struct ynode *root)
{
	size_t mark, m2;
	const struct ynode *api = cfg_section(c, root, "api", api_keys, &mark);
	const struct ynode *v;

	if (api == NULL)
		return;
	v = ymap_opt(api, "socket");
	if (v != NULL) {
		m2 = yr_key(&c->r, "socket");
		if (yr_scalar(&c->r, v, "a path") != NULL) {
			if (v->len == 0 || v->str[0] != '/' || strlen(v->str) != v->len)
				yr_err(&c->r, v, "want an absolute path, got %s",
				       yr_quote_node(&c->r, v));
			else if (v->len >= EGRESS_API_SOCKET_MAX)
				yr_err(&c->r, v, "path longer than %u bytes",
				       EGRESS_API_SOCKET_MAX - 1);
			else
				snprintf(c->cfg->api_socket, sizeof(c->cfg->api_socket), "%s",
					 v->str);
		}
		yr_pop(&c->r, m2);
	}
	yr_pop(&c->r, mark);
}

/*
 * flowlog: { path: PATH, denied_per_second: N, ring: N }: the flow log
 * (doc/operations.md "Flow logs"). Absent: no flow log.
 */
static void
parse_flowlog(struct cfg_ctx *c, const struct ynode *root)
{
	size_t mark, m2;
	const struct ynode *fl = cfg_section(c, root, "flowlog", flowlog_keys, &mark);
	const struct ynode *v;
	uint64_t x;

	if (fl == NULL)
		return;
	v = cfg_need(c, fl, "path");
	if (v != NULL) {
		m2 = yr_key(&c->r, "path");
		if (yr_scalar(&c->r, v, "a path") != NULL) {
			if (v->str[0] != '/' || strlen(v->str) != v->len)
				yr_err(&c->r, v, "want an absolute path, got %s",
				       yr_quote_node(&c->r, v));
			else
				cfg_strdup(c, v->str, &c->cfg->flowlog_path);
		}
		yr_pop(&c->r, m2);
	}
	if (yr_get_uint(&c->r, fl, "denied_per_second", 0, CFG_FLOWLOG_RATE_MAX, NULL, &x) != NULL)
		c->cfg->flowlog_denied_per_second = (uint32_t)x;
	if (yr_get_uint(&c->r, fl, "ring", CFG_FLOWLOG_RING_MIN, CFG_FLOWLOG_RING_MAX, NULL, &x) !=
	    NULL)
		c->cfg->flowlog_ring = (uint32_t)x;
	yr_pop(&c->r, mark);
}

/*
 * poll: { idle: busy|backoff|interrupt, max_sleep_us: N }: what a worker does while
 * its queues are empty (doc/operations.md, Idle workers). Absent: busy.
 */
static void
parse_poll(struct cfg_ctx *c, const struct ynode *root)
{
	size_t mark;
	const struct ynode *poll = cfg_section(c, root, "poll", poll_keys, &mark);
	unsigned int e;
	uint64_t x;

	if (poll == NULL)
		return;
	if (yr_get_enum(&c->r, poll, "idle", poll_idle_names, NULL, &e) != NULL)
		c->cfg->poll_idle = (enum egress_poll_idle)e;
	if (yr_get_uint(&c->r, poll, "max_sleep_us", 1, CFG_MAX_SLEEP_US_MAX, NULL, &x) != NULL)
		c->cfg->poll_max_sleep_us = (uint32_t)x;
	yr_pop(&c->r, mark);
}

static void
set_defaults(struct egress_config *cfg)
{
	unsigned int r;

	for (r = 0; r < EGRESS_PORT_MAX; r++)
		cfg->port[r].mtu = CFG_MTU_DEFAULT;
	cfg->nat_port_lo = 1024;
	cfg->nat_port_hi = 65535;
	cfg->port_alloc = EGRESS_PORT_ALLOC_RANDOM;
	cfg->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	cfg->deny = EGRESS_DENY_DROP;
	cfg->no_flow = EGRESS_NO_FLOW_DROP;
	cfg->on_revoke = EGRESS_REVOKE_RESET;
	cfg->flows_max = CFG_DEFAULT_FLOWS_MAX;
	cfg->embryonic_max = CFG_DEFAULT_FLOWS_MAX / 4;
	cfg->timeout_established_ms = CFG_DEFAULT_ESTABLISHED;
	cfg->timeout_transitory_ms = CFG_DEFAULT_TRANSITORY;
	cfg->timeout_time_wait_ms = CFG_DEFAULT_TIME_WAIT;
	cfg->workers = 1;
	cfg->poll_idle = EGRESS_POLL_BUSY;
	cfg->poll_max_sleep_us = CFG_MAX_SLEEP_US_DEFAULT;
	cfg->flowlog_denied_per_second = CFG_FLOWLOG_RATE_DEFAULT;
	cfg->flowlog_ring = CFG_FLOWLOG_RING_DEFAULT;
	snprintf(cfg->api_socket, sizeof(cfg->api_socket), "%s", EGRESS_API_SOCKET_DEFAULT);
}

static void
parse_root(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	uint64_t x;

	if (!cfg_check_map(c, root, top_keys))
		return;
	cfg_parse_ports(c, root);
	cfg_parse_nat(c, root);
	/* Not given: the outside address. Given but wrong: reported already. */
	if (ymap_opt(ymap_opt(root, "nat"), "addresses") == NULL &&
	    c->addr[EGRESS_PORT_OUTSIDE] != NULL) {
		cfg->nat_addrs[0] = cfg->port[EGRESS_PORT_OUTSIDE].addr;
		cfg->n_nat_addrs = 1;
	}
	cfg_check_exceptions(c);
	parse_policy(c, root);
	parse_flows(c, root);
	parse_api(c, root);
	parse_flowlog(c, root);
	if (yr_get_uint(&c->r, root, "workers", 1, CFG_WORKERS_MAX, NULL, &x) != NULL)
		cfg->workers = (unsigned int)x;
	parse_poll(c, root);
	cfg_parse_metrics(c, root);
	cfg_parse_sync(c, root);
}

/*
 * Put the diagnostics of this load (from index first on) in file order; the
 * loader finds them section by section. Stable, so that two problems at one
 * position keep the order in which they were found.
 */
static void
sort_diags(struct diag_list *dl, size_t first)
{
	size_t i, j;

	for (i = first + 1; i < dl->n; i++) {
		struct diag d = dl->v[i];

		for (j = i; j > first; j--) {
			const struct diag *p = &dl->v[j - 1];

			if (p->line < d.line || (p->line == d.line && p->col <= d.col))
				break;
			dl->v[j] = *p;
		}
		dl->v[j] = d;
	}
}

int
egress_config_load(const char *path, struct egress_config *cfg, struct diag_list *dl)
{
	struct cfg_ctx c = { .cfg = cfg };
	size_t errors, first;
	struct yfile yf;
	int rc;

	if (path == NULL || cfg == NULL || dl == NULL)
		return -EINVAL;
	yr_init(&c.r, path, dl, CFG_QUOTE_MAX);
	errors = diag_errors(dl);
	first = dl->n;
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	if (cfg_strdup(&c, path, &cfg->path) < 0 ||
	    cfg_strdup(&c, "istio", &cfg->labels[0].key) < 0 ||
	    cfg_strdup(&c, "egressgateway", &cfg->labels[0].value) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	cfg->n_labels = 1;
	cfg->dir = config_dir(path);
	if (cfg->dir == NULL) {
		cfg_nomem(&c);
		rc = -ENOMEM;
		goto fail;
	}

	rc = yfile_load(&yf, path, dl);
	if (rc < 0)
		goto fail;
	if (yf.n_docs == 0 || yf.docs[0].root == NULL)
		yr_err(&c.r, NULL, "empty config (want a mapping with at least \"ports\")");
	else
		parse_root(&c, yf.docs[0].root);
	if (yf.n_docs > 1)
		diag_add(dl, DIAG_ERROR, path, yf.docs[1].line, 1,
			 "more than one document (the config is a single mapping)");
	yfile_free(&yf);
	sort_diags(dl, first);

	if (diag_errors(dl) == errors)
		return 0;
	rc = -EINVAL;
fail:
	egress_config_free(cfg);
	return rc;
}

void
egress_config_free(struct egress_config *cfg)
{
	unsigned int i, k;

	if (cfg == NULL)
		return;
	for (i = 0; i < EGRESS_PORT_MAX; i++)
		free(cfg->port[i].device);
	for (i = 0; i < cfg->n_sources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	for (i = 0; i < EGRESS_MAX_LABELS; i++) {
		free(cfg->labels[i].key);
		free(cfg->labels[i].value);
	}
	for (k = 0; k < EGRESS_EXPORT_KINDS; k++)
		for (i = 0; i < cfg->default_export_to[k].n; i++)
			free(cfg->default_export_to[k].v[i]);
	free(cfg->ns);
	free(cfg->root_namespace);
	free(cfg->flowlog_path);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}

/* The grammar is the appliance config's: lib/yaml/yreader.c. */
int
egress_parse_duration(const char *s, uint64_t *ms)
{
	return yparse_duration_ms(s, ms);
}
