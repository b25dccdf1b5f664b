/* How far apart two GPUs sit in the PCIe tree, in nvidia-smi's words.
 * The values are ordered: a larger level is a longer path, and "P2P allowed up
 * to level L" includes every smaller level. */
#ifndef QP2P_LEVEL_H
#define QP2P_LEVEL_H

enum link_level {
	LINK_AUTO = 0, /* only as a setting: choose from the CPU vendor */
	LINK_PIX,
	LINK_PXB,
	LINK_PHB,
	LINK_NODE,
	LINK_SYS,
};

/* "PIX" .. "SYS", or "auto". */
const char *link_level_name(enum link_level l);

/* Case-insensitive; returns 0 or -EINVAL. */
int link_level_parse(const char *s, enum link_level *out);

#endif
