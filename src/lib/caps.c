/* Capability layout as QEMU 7.2's vfio sees it.
 *
 * QEMU < 8.1 adds the clique capability at 0xC8 *before* it re-adds the
 * device's own capabilities (vfio_add_std_cap adds virtual capabilities when
 * it reaches the end of the chain), and each real capability is given the
 * size QEMU assumes for it: MSI-X 12 bytes, MSI by its flags, every other one
 * up to the next capability's offset or the end of config space. A real
 * capability whose range meets 0xC8..0xCF then fails with "overlaps existing
 * capability". We mirror those sizes; where QEMU's size is larger than the
 * hardware's, we are cautious in the same direction QEMU is. */
#include "caps.h"

#include <errno.h>
#include <string.h>

#define CFG_STD_SIZE 256
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define CAP_ID_MSI 0x05
#define CAP_ID_MSIX 0x11

/* Collects the chain's offsets; returns the count or -EINVAL. */
static int chain(const uint8_t *c, uint8_t *offs)
{
	int n = 0;

	if (!(c[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	for (uint8_t pos = c[PCI_CAPABILITY_LIST] & ~3u; pos; pos = c[pos + 1] & ~3u) {
		if (pos < 0x40 || n == 48)
			return -EINVAL; /* header overlap or a loop */
		offs[n++] = pos;
	}
	return n;
}

static unsigned msi_size(const uint8_t *c, uint8_t pos)
{
	unsigned flags = c[pos + 2] | (c[pos + 3] << 8);

	return 10 + ((flags & 0x80) ? 4 : 0) + ((flags & 0x100) ? 10 : 0);
}

static unsigned qemu_size(const uint8_t *c, const uint8_t *offs, int n, uint8_t pos)
{
	unsigned next = CFG_STD_SIZE;

	if (c[pos] == CAP_ID_MSIX)
		return 12;
	if (c[pos] == CAP_ID_MSI)
		return msi_size(c, pos);
	for (int i = 0; i < n; i++)
		if (offs[i] > pos && offs[i] < next)
			next = offs[i];
	return next - pos;
}

int caps_c8_free(const uint8_t *config, size_t len)
{
	uint8_t offs[48];
	int n;

	if (len < CFG_STD_SIZE)
		return -ENODATA;
	n = chain(config, offs);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		unsigned start = offs[i], end = start + qemu_size(config, offs, n, offs[i]);

		if (start < CLIQUE_CAP_OFFSET + CLIQUE_CAP_SIZE && end > CLIQUE_CAP_OFFSET)
			return 0;
	}
	return 1;
}

int caps_find(const uint8_t *config, size_t len, uint8_t id)
{
	uint8_t offs[48];
	int n;

	if (len < CFG_STD_SIZE)
		return -ENODATA;
	n = chain(config, offs);
	for (int i = 0; i < n; i++)
		if (config[offs[i]] == id)
			return offs[i];
	return n < 0 ? n : 0;
}

#define CAP_ID_VENDOR 0x09

int caps_p2p_clique(const uint8_t *config, size_t len, int *id)
{
	uint8_t offs[48];
	int n;

	if (len < CFG_STD_SIZE)
		return -ENODATA;
	n = chain(config, offs);
	for (int i = 0; i < n; i++) {
		const uint8_t *c = config + offs[i];

		if (c[0] == CAP_ID_VENDOR && offs[i] + 8 <= CFG_STD_SIZE && c[2] == 8 && !memcmp(c + 3, "P2P", 3)) {
			*id = (c[6] >> 3) & 0x0f;
			return 1;
		}
	}
	return n < 0 ? n : 0;
}

int caps_find_ext(const uint8_t *config, size_t len, uint16_t id)
{
	unsigned pos = CFG_STD_SIZE;

	for (int hops = 0; pos && pos + 4 <= len && hops < 96; hops++) {
		uint32_t hdr = config[pos] | (config[pos + 1] << 8) | (config[pos + 2] << 16) |
			       ((uint32_t)config[pos + 3] << 24);

		if (hdr == 0 || hdr == 0xffffffff)
			return 0;
		if ((hdr & 0xffff) == id)
			return (int)pos;
		pos = (hdr >> 20) & ~3u;
		if (pos < CFG_STD_SIZE)
			return 0;
	}
	return 0;
}

int caps_acs_p2p_bits(const uint8_t *config, size_t len)
{
	int pos;

	if (len <= CFG_STD_SIZE)
		return -ENODATA;
	pos = caps_find_ext(config, len, ACS_EXT_ID);
	if (!pos || (size_t)pos + ACS_CTRL_OFFSET + 2 > len)
		return 0;
	return (config[pos + ACS_CTRL_OFFSET] | (config[pos + ACS_CTRL_OFFSET + 1] << 8)) & ACS_P2P_BITS;
}
