/* Exact search over set partitions (see partition.h). GPUs are placed in
 * address order, each into an existing group whose members all accept it
 * (earliest group first) or into a new group, so the first optimum found is
 * the one that keeps the lowest addresses together. A bound (pairs kept so
 * far plus every OK pair still possible) prunes; 16 GPUs stay fast. */
#include "partition.h"

#include <errno.h>
#include <string.h>

struct search {
	size_t n;
	size_t order[PARTITION_MAX];           /* GPU indices by address */
	bool ok[PARTITION_MAX][PARTITION_MAX]; /* in search order */
	int group[PARTITION_MAX], best_group[PARTITION_MAX];
	int size[PARTITION_MAX];
	int kept, best;
	int rest[PARTITION_MAX + 1]; /* OK pairs (k, earlier) for k >= i */
};

static void place(struct search *s, size_t i, int groups)
{
	if (s->kept + s->rest[i] <= s->best)
		return;
	if (i == s->n) {
		s->best = s->kept;
		memcpy(s->best_group, s->group, sizeof(s->group));
		return;
	}
	for (int g = 0; g <= groups; g++) {
		bool fits = true;

		for (size_t k = 0; k < i && fits; k++)
			fits = s->group[k] != g || s->ok[i][k];
		if (!fits)
			continue;
		s->group[i] = g;
		s->kept += s->size[g];
		s->size[g]++;
		place(s, i + 1, g == groups ? groups + 1 : groups);
		s->size[g]--;
		s->kept -= s->size[g];
	}
}

int partition_best(size_t n, const bool ok[][PARTITION_MAX], const struct pci_addr *addr, int *labels)
{
	struct search s = { .n = n, .best = -1 };

	if (n > PARTITION_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t k = i;

		/* insertion sort by address */
		while (k > 0 && pci_addr_cmp(&addr[s.order[k - 1]], &addr[i]) > 0) {
			s.order[k] = s.order[k - 1];
			k--;
		}
		s.order[k] = i;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			s.ok[i][k] = ok[s.order[i]][s.order[k]];
	for (size_t i = n; i-- > 0;) {
		s.rest[i] = s.rest[i + 1];
		for (size_t k = 0; k < i; k++)
			s.rest[i] += s.ok[i][k];
	}
	place(&s, 0, 0);
	for (size_t i = 0; i < n; i++) {
		size_t first = i;

		for (size_t k = 0; k < i; k++)
			if (s.best_group[k] == s.best_group[i]) {
				first = k;
				break;
			}
		labels[s.order[i]] = (int)s.order[first];
	}
	return s.best;
}
