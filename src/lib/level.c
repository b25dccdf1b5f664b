/* Names of the link levels, shared by the configuration, topo and plan. */
#include "level.h"

#include <errno.h>
#include <strings.h>

static const char *const names[] = {
	[LINK_AUTO] = "auto", [LINK_PIX] = "PIX",   [LINK_PXB] = "PXB",
	[LINK_PHB] = "PHB",   [LINK_NODE] = "NODE", [LINK_SYS] = "SYS",
};

const char *link_level_name(enum link_level l)
{
	return l <= LINK_SYS ? names[l] : "?";
}

int link_level_parse(const char *s, enum link_level *out)
{
	for (unsigned i = 0; i <= LINK_SYS; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum link_level)i;
			return 0;
		}
	}
	return -EINVAL;
}
