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
	if (strlen(s) != 8 || s[0] != ':' || s[3] != ':' || s[6] != '.' || !hex_run(s + 1, 2) || !hex_run(s + 4, 2) ||
	    s[7] < '0' || s[7] > '7')
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

/* "domain", "bus", "slot" or "function" of a field that is not a number
 * in range, with the limit it breaks; NULL when the field is fine. */
static const char *bad_field(const char *text, size_t len, int base, unsigned long max, char *buf, size_t size,
			     const char *what)
{
	char *end = NULL;
	char field[24];
	unsigned long v;

	snprintf(field, sizeof(field), "%.*s", (int)(len < 20 ? len : 20), text);
	v = strtoul(field, &end, base);
	if (!len || *end || end == field)
		snprintf(buf, size, "%s '%s' is not a %s number", what, field, base == 16 ? "hex" : "decimal");
	else if (v > max)
		snprintf(buf, size, "%s %s is above %lx", what, field, max);
	else
		return NULL;
	return buf;
}

void pci_addr_why(const char *s, char *buf, size_t size)
{
	const char *dot = strrchr(s, '.'), *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *bus = c2 ? c1 + 1 : s, *slot = c2 ? c2 + 1 : c1 ? c1 + 1 : NULL;
	const char *form = c2 ? "DDDD:BB:SS.F" : "BB:SS.F";

	if (!c1 || (c2 && strchr(c2 + 1, ':'))) {
		snprintf(buf, size,
			 "write DDDD:BB:SS.F (hex domain, bus and slot, function 0-7) as lspci -D prints it");
		return;
	}
	if (!dot || dot < slot) {
		snprintf(buf, size, "no function: write %s.F", s);
		return;
	}
	if ((c2 && bad_field(s, (size_t)(c1 - s), 16, 0xffffffff, buf, size, "domain")) ||
	    bad_field(bus, (size_t)((c2 ? c2 : c1) - bus), 16, 0xff, buf, size, "bus") ||
	    bad_field(slot, (size_t)(dot - slot), 16, 0x1f, buf, size, "slot") ||
	    bad_field(dot + 1, strlen(dot + 1), 10, 7, buf, size, "function"))
		return;
	snprintf(buf, size, "write it as %s", form);
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
