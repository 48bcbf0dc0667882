/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loadBalancer.localityLbSetting of a DestinationRule, checked as Istio's
 * ValidateLocalityLbSetting() and validateLocalities() check it (agent/
 * validation.go): distribute weights and localities, failover regions,
 * failoverPriority labels. An L4 gateway does no locality-aware balancing
 * (the caller says so once); the rules still hold, because the API server
 * would refuse such a rule.
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "istio_dr_private.h"

/* One part of a locality "region/zone/subzone". */
struct loc_part {
	const char *s;
	size_t len;
};

/*
 * An entry of Istio's region -> zone -> subzone map, flattened: a locality
 * "r" is (r, *, *), "r/z" is (r, z, *), "r/z/s" is (r, z, s).
 */
struct loc_rec {
	struct loc_part p[3];
};

static const struct loc_part loc_star = { "*", 1 };

static bool
part_eq(struct loc_part a, struct loc_part b)
{
	return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

/* Does the map hold want[0] (depth 1), want[0]/want[1] (2), or all three? */
static bool
loc_has(const struct loc_rec *v, size_t n, const struct loc_part *want, int depth)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < depth && part_eq(v[i].p[j], want[j]); j++)
			;
		if (j == depth)
			return true;
	}
	return false;
}

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

/*
 * getLocalityParam(): strings.SplitN(locality, "/", 3), no part empty.
 * @return the index of the last part (0 region, 1 zone, 2 subzone), or -1.
 */
static int
loc_parse(const char *s, struct loc_part *p)
{
	int i;

	for (i = 0;; i++) {
		const char *slash = i < 2 ? strchr(s, '/') : NULL;

		p[i].s = s;
		p[i].len = slash != NULL ? (size_t)(slash - s) : strlen(s);
		if (p[i].len == 0)
			return -1;
		if (slash == NULL)
			return i;
		s = slash + 1;
	}
}

/*
 * validateLocalities(): at most one '*', at the end; no empty part; no
 * locality covered by one before it. Checks localities[0..n) (nodes[i] is
 * where each was written) and reports the first wrong one. @return true if all are good.
 */
static bool
loc_validate(struct ld *ld, const char *const *localities, const struct ynode *const *nodes,
	     size_t n)
{
	struct loc_rec *seen = ld_calloc(ld, n > 0 ? n : 1, sizeof(*seen));
	size_t i, n_seen = 0;
	const char *err = NULL;

	if (seen == NULL)
		return false;
	for (i = 0; i < n && err == NULL; i++) {
		const char *l = localities[i];
		size_t stars = count_char(l, '*'), len = strlen(l);
		struct loc_part p[3] = { loc_star, loc_star, loc_star };
		int depth;

		if (stars > 1 || (stars == 1 && l[len - 1] != '*')) {
			err = "wildcard '*' number can not exceed 1 and must be in the end";
			break;
		}
		if (loc_has(seen, n_seen, &loc_star, 1)) {
			err = "overlap with previous specified ones";
			break;
		}
		depth = loc_parse(l, p);
		if (depth < 0) {
			err = "must not contain empty region/zone/subzone info";
			break;
		}
		/* region: taken; zone: its region whole, or the zone, taken; subzone:
		 * its region or zone whole, or the subzone itself, taken */
		if ((depth == 0 && loc_has(seen, n_seen, p, 1)) ||
		    (depth >= 1 &&
		     loc_has(seen, n_seen, (struct loc_part[]){ p[0], loc_star }, 2)) ||
		    (depth == 1 && loc_has(seen, n_seen, p, 2)) ||
		    (depth == 2 &&
		     (loc_has(seen, n_seen, (struct loc_part[]){ p[0], p[1], loc_star }, 3) ||
		      loc_has(seen, n_seen, p, 3)))) {
			err = "overlap with previous specified ones";
			break;
		}
		seen[n_seen++] = (struct loc_rec){ { p[0], p[1], p[2] } };
	}
	if (err != NULL)
		yr_err(&ld->r, nodes[i], "locality %s %s", localities[i], err);
	free(seen);
	return err == NULL;
}

/* The list at key, its items mappings ("KEY may not be null" otherwise). */
static const struct ynode *
loc_list(struct ld *ld, const struct ynode *loc, const char *key, bool maps)
{
	const struct ynode *seq = yr_get(&ld->r, loc, key, YNODE_SEQ);
	size_t i, mark;

	if (seq == NULL || !maps)
		return seq;
	mark = yr_key(&ld->r, key);
	for (i = 0; i < seq->n; i++) {
		if (seq->items[i]->type != YNODE_MAP) {
			size_t m2 = yr_idx(&ld->r, i);

			yr_err(&ld->r, seq->items[i], "expected a mapping, got %s",
			       yr_describe(&ld->r, seq->items[i]));
			yr_pop(&ld->r, m2);
		}
	}
	yr_pop(&ld->r, mark);
	return seq;
}

/*
 * distribute[]: each "to" weighs 1 to 100 and adds up to 100, its
 * localities valid; then the "from" localities. @return false after the
 * first weight error (where Istio stops).
 */
static bool
loc_distribute(struct ld *ld, const struct ynode *seq)
{
	static const char *const fields[] = { "from", "to", NULL };
	const char **from = ld_calloc(ld, seq->n + 1, sizeof(*from));
	const struct ynode **from_at = ld_calloc(ld, seq->n + 1, sizeof(*from_at));
	size_t i, j, n_from = 0, mark = yr_key(&ld->r, "distribute");
	bool ok = from != NULL && from_at != NULL;

	for (i = 0; ok && i < seq->n; i++) {
		const struct ynode *d = seq->items[i], *fn, *to;
		const char **dest;
		const struct ynode **dest_at;
		size_t m2 = yr_idx(&ld->r, i), n_dest = 0;
		uint64_t total = 0;

		if (d->type != YNODE_MAP) {
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_unknown_fields(ld, d, fields);
		from[n_from] = yr_get_str(&ld->r, d, "from", &fn);
		from_at[n_from] = fn != NULL ? fn : d;
		if (from[n_from] == NULL)
			from[n_from] = "";
		n_from++;
		to = yr_get(&ld->r, d, "to", YNODE_MAP);
		dest = ld_calloc(ld, (to != NULL ? to->n : 0) + 1, sizeof(*dest));
		dest_at = ld_calloc(ld, (to != NULL ? to->n : 0) + 1, sizeof(*dest_at));
		ok = dest != NULL && dest_at != NULL;
		for (j = 0; ok && to != NULL && j < to->n; j++) {
			const struct ynode *k = to->items[2 * j], *w = to->items[2 * j + 1];
			size_t m3 = yr_key(&ld->r, "to");
			int64_t v;

			yr_key(&ld->r, k->str);
			if (yr_int(&ld->r, w, &v) != 0) {
				ok = false;
			} else if (v <= 0 || v > 100) {
				yr_err(&ld->r, w, "locality weight must be in range [1, 100]");
				ok = false;
			} else {
				total += (uint64_t)v;
				dest[n_dest] = k->str;
				dest_at[n_dest++] = k;
			}
			yr_pop(&ld->r, m3);
		}
		if (ok && total != 100) {
			size_t m3 = yr_key(&ld->r, "to");

			yr_err(&ld->r, to != NULL ? to : d,
			       "total locality weight %" PRIu64 " != 100", total);
			yr_pop(&ld->r, m3);
			ok = false;
		}
		if (ok) {
			size_t m3 = yr_key(&ld->r, "to");

			loc_validate(ld, dest, dest_at, n_dest);
			yr_pop(&ld->r, m3);
		}
		free(dest);
		free(dest_at);
		yr_pop(&ld->r, m2);
	}
	if (ok)
		loc_validate(ld, from, from_at, n_from);
	free(from);
	free(from_at);
	yr_pop(&ld->r, mark);
	return ok;
}

static void
loc_failover(struct ld *ld, const struct ynode *seq)
{
	static const char *const fields[] = { "from", "to", NULL };
	size_t i, mark = yr_key(&ld->r, "failover");

	for (i = 0; i < seq->n; i++) {
		const struct ynode *f = seq->items[i], *fn, *tn;
		const char *from, *to;
		size_t m2;

		if (f->type != YNODE_MAP)
			continue;
		m2 = yr_idx(&ld->r, i);
		ld_unknown_fields(ld, f, fields);
		from = yr_get_str(&ld->r, f, "from", &fn);
		to = yr_get_str(&ld->r, f, "to", &tn);
		from = from != NULL ? from : "";
		to = to != NULL ? to : "";
		if (strcmp(from, to) == 0)
			yr_err(&ld->r, f,
			       "locality lb failover settings must specify different regions");
		if (strchr(from, '/') != NULL || strchr(to, '/') != NULL)
			yr_err(&ld->r, f, "locality lb failover only specify region");
		if (strchr(from, '*') != NULL || strchr(to, '*') != NULL)
			yr_err(&ld->r, f,
			       "locality lb failover region should not contain '*' wildcard");
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
dr_locality_lb(struct ld *ld, const struct ynode *loc, bool outlier)
{
	static const char *const fields[] = {
		"enabled", "distribute", "failover", "failoverPriority", NULL,
	};
	/* the topology labels failover already sorts by */
	static const char *const region_labels[] = {
		"topology.kubernetes.io/region",
		"topology.kubernetes.io/zone",
		"topology.istio.io/subzone",
		NULL,
	};
	const struct ynode *dist, *fo, *fp;
	size_t n_dist, n_fo, n_fp, i, j;
	bool enabled;

	ld_unknown_fields(ld, loc, fields);
	ld_bool(ld, loc, "enabled", &enabled);
	dist = loc_list(ld, loc, "distribute", true);
	fo = loc_list(ld, loc, "failover", true);
	fp = loc_list(ld, loc, "failoverPriority", false);
	n_dist = dist != NULL ? dist->n : 0;
	n_fo = fo != NULL ? fo->n : 0;
	n_fp = fp != NULL ? fp->n : 0;
	if (n_dist > 0 && n_fo > 0) {
		yr_err(&ld->r, loc, "can not simultaneously specify 'distribute' and 'failover'");
		return;
	}
	for (i = 0; n_fo > 0 && i < n_fp; i++) {
		size_t mark = yr_key(&ld->r, "failoverPriority");
		const char *label;

		yr_idx(&ld->r, i);
		label = yr_str(&ld->r, fp->items[i]);
		for (j = 0; label != NULL && region_labels[j] != NULL; j++) {
			if (strcmp(label, region_labels[j]) == 0) {
				yr_err(&ld->r, fp->items[i],
				       "can not simultaneously set 'failover' and topology label "
				       "'%s' in 'failover_priority'",
				       label);
				yr_pop(&ld->r, mark);
				return;
			}
		}
		yr_pop(&ld->r, mark);
	}
	if (n_dist > 0 && !loc_distribute(ld, dist))
		return;
	if ((n_fo > 0 || n_fp > 0) && !outlier)
		yr_warn(&ld->r, loc, "outlier detection policy must be provided for failover");
	if (n_fo > 0)
		loc_failover(ld, fo);
}
