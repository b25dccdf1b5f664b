/* PCI address parsing and formatting.
 *
 * The `host=` grammar follows QEMU's set_pci_host_devaddr(): fields are read
 * with strtoul (so leading blanks, a sign and a 0x prefix are accepted the
 * way QEMU accepts them), the function is decimal, and the limits are
 * domain <= ffff, bus <= ff, slot <= 1f, function <= 7. Matching QEMU exactly
 * matters: an address QEMU accepts must be recognised, one it rejects must not
 * be "fixed" by us. */
#include "pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int field(const char **p, int base, unsigned long *val)
{
	char *end = NULL;

	errno = 0;
	*val = strtoul(*p, &end, base);
	if (end == *p)
		return -EINVAL;
	if (errno == ERANGE)
		*val = (unsigned long)-1;
	*p = end;
	return 0;
}

int pci_addr_parse_qemu(const char *s, struct pci_addr *out)
{
	unsigned long dom = 0, bus, slot, func;
	const char *p = s;

	if (field(&p, 16, &bus) < 0 || *p != ':')
		return -EINVAL;
	p++;
	if (field(&p, 16, &slot) < 0)
		return -EINVAL;
	if (*p == ':') {
		dom = bus;
		bus = slot;
		p++;
		if (field(&p, 16, &slot) < 0)
			return -EINVAL;
	}
	if (*p != '.')
		return -EINVAL;
	p++;
	if (field(&p, 10, &func) < 0 || *p)
		return -EINVAL;
	if (dom > 0xffff || bus > 0xff || slot > 0x1f || func > 7)
		return -EINVAL;
	*out = (struct pci_addr){ (uint32_t)dom, (uint8_t)bus, (uint8_t)slot, (uint8_t)func };
	return 0;
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

int pci_addr_parse_sysfs(const char *s, struct pci_addr *out)
{
	size_t dlen = strcspn(s, ":");
	unsigned long dom, bus, slot, func;

	if (dlen < 4 || dlen > 8 || !hex_run(s, dlen))
		return -EINVAL;
	s += dlen;
	if (strlen(s) != 8 || s[0] != ':' || s[3] != ':' || s[6] != '.' ||
	    !hex_run(s + 1, 2) || !hex_run(s + 4, 2) || s[7] < '0' || s[7] > '7')
		return -EINVAL;
	dom = strtoul(s - dlen, NULL, 16);
	bus = strtoul(s + 1, NULL, 16);
	slot = strtoul(s + 4, NULL, 16);
	func = (unsigned long)(s[7] - '0');
	if (slot > 0x1f)
		return -EINVAL;
	*out = (struct pci_addr){ (uint32_t)dom, (uint8_t)bus, (uint8_t)slot, (uint8_t)func };
	return 0;
}

char *pci_addr_format(const struct pci_addr *a, char *buf)
{
	snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->func);
	return buf;
}

int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b)
{
	uint64_t ka = ((uint64_t)a->domain << 16) | (a->bus << 8) | (a->slot << 3) | a->func;
	uint64_t kb = ((uint64_t)b->domain << 16) | (b->bus << 8) | (b->slot << 3) | b->func;

	return ka < kb ? -1 : ka > kb;
}
