/* Per-VM clique id assignment (see clique.h). */
#include "clique.h"

#include <stdbool.h>

#define IDS 16

static size_t members(const struct clique_gpu *g, size_t n, int group)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		m += g[i].group == group;
	return m;
}

/* The id this group already has: an operator's id on one of its GPUs, or
 * one given earlier in this pass. -1 when none. */
static int group_id(const struct clique_gpu *g, size_t n, int group)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].group == group && g[i].explicit_id >= 0)
			return g[i].explicit_id;
	for (size_t i = 0; i < n; i++)
		if (g[i].group == group && g[i].outcome == CLIQUE_ADDED)
			return g[i].assigned;
	return -1;
}

static int next_free(const bool used[IDS], int *cursor)
{
	while (*cursor < IDS && used[*cursor])
		(*cursor)++;
	return *cursor < IDS ? (*cursor)++ : -1;
}

void clique_assign(struct clique_gpu *g, size_t n)
{
	bool used[IDS] = { false };
	int cursor = 0;

	for (size_t i = 0; i < n; i++) {
		g[i].assigned = -1;
		g[i].outcome = CLIQUE_NONE;
		if (g[i].explicit_id >= 0 && g[i].explicit_id < IDS)
			used[g[i].explicit_id] = true;
	}
	for (size_t i = 0; i < n; i++) {
		struct clique_gpu *x = &g[i];

		if (x->explicit_id >= 0) {
			x->outcome = CLIQUE_EXPLICIT;
			x->assigned = x->explicit_id;
		} else if (x->group < 0) {
			x->outcome = CLIQUE_NO_GROUP;
		} else if (members(g, n, x->group) < 2) {
			x->outcome = CLIQUE_ALONE;
		} else {
			int id = group_id(g, n, x->group);

			if (id < 0)
				id = next_free(used, &cursor);
			x->outcome = id < 0 ? CLIQUE_FULL : CLIQUE_ADDED;
			x->assigned = id;
		}
	}
}
