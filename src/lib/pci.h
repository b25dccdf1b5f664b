/* PCI addresses: QEMU's `host=` grammar, the sysfs spelling, and one
 * canonical form (`0000:05:00.0`) used for every comparison. */
#ifndef QP2P_PCI_H
#define QP2P_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_addr {
	uint32_t domain;
	uint8_t bus, slot, func;
};

/* Longest canonical spelling: 8-digit domain (Intel VMD) + ":bb:ss.f". */
#define PCI_ADDR_STRLEN sizeof("ffffffff:ff:1f.7")

/* QEMU's `[domain:]bus:slot.func`: hex fields, decimal function, short forms
 * such as `5:0.0`, domain at most ffff. Returns 0 or -EINVAL. */
int pci_addr_parse_qemu(const char *s, struct pci_addr *out);

/* The kernel's directory name, `DDDD:BB:SS.F`, domain of 4 to 8 hex digits. */
int pci_addr_parse_sysfs(const char *s, struct pci_addr *out);

/* Why s is no address, said about the parts the user wrote (which one is
 * not hex or out of range, what is missing), never naming another
 * device. For messages. */
void pci_addr_why(const char *s, char *buf, size_t size);

/* Writes the canonical spelling into buf (PCI_ADDR_STRLEN bytes); returns buf. */
char *pci_addr_format(const struct pci_addr *a, char *buf);

int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b);

static inline bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
	return pci_addr_cmp(a, b) == 0;
}

#endif
