/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classifying flow keys against a published policy: any thread, no locks, no
 * allocation. The longest destination prefix wins: a hit in the exact table
 * (/32 rules) is final; rte_acl, where priority is prefix + 1, answers the
 * keys the table misses.
 */
#include <stdint.h>

#include <rte_acl.h>
#include <rte_prefetch.h>

#include "policy_tables.h"

/* Up to EXACT_BULK keys: the exact table, then rte_acl for what it misses. */
static void
classify_chunk(const struct policy *p, const struct flow_key **keys, unsigned int n,
	       uint32_t *rules)
{
	const struct flow_key *miss[EXACT_BULK];
	uint32_t miss_rules[EXACT_BULK];
	uint8_t miss_idx[EXACT_BULK];
	unsigned int i, n_miss = 0;

	if (p->exact != NULL) {
		const struct policy_exact *t = p->exact;
		uint64_t k[EXACT_BULK];
		uint32_t s[EXACT_BULK];

		/* hash and prefetch the whole burst first, then probe */
		for (i = 0; i < n; i++) {
			k[i] = exact_key(keys[i]->dst_ip, keys[i]->dst_port, keys[i]->proto);
			s[i] = exact_hash(k[i]) & t->mask;
			rte_prefetch0(&t->slot[s[i]]);
		}
		for (i = 0; i < n; i++) {
			uint32_t j = s[i];

			while (t->slot[j].key != k[i] && t->slot[j].key != EXACT_EMPTY)
				j = (j + 1) & t->mask;
			rules[i] = POLICY_NO_RULE;
			if (t->slot[j].key == k[i]) {
				rules[i] = t->slot[j].rule;
			} else {
				miss_idx[n_miss] = (uint8_t)i;
				miss[n_miss++] = keys[i];
			}
		}
	} else {
		for (i = 0; i < n; i++) {
			rules[i] = POLICY_NO_RULE;
			miss_idx[i] = (uint8_t)i;
			miss[i] = keys[i];
		}
		n_miss = n;
	}
	if (n_miss == 0 || p->acl == NULL ||
	    rte_acl_classify(p->acl, (const uint8_t **)miss, miss_rules, n_miss, 1) != 0)
		return;
	/* userdata is index + 1 so that 0 can mean "no match": 0 - 1 wraps to
	 * POLICY_NO_RULE */
	for (i = 0; i < n_miss; i++)
		rules[miss_idx[i]] = miss_rules[i] - 1;
}

void
policy_classify_bulk(const struct policy *p, const struct flow_key **keys, unsigned int n,
		     uint32_t *rules)
{
	unsigned int done, m;

	for (done = 0; done < n; done += m) {
		m = n - done < EXACT_BULK ? n - done : EXACT_BULK;
		classify_chunk(p, keys + done, m, rules + done);
	}
}
