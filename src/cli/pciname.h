/* Device names from the PCI ID database (pci.ids), through libpci. */
#ifndef QP2P_PCINAME_H
#define QP2P_PCINAME_H

#include <stddef.h>

/* "GH100 [H100 SXM5 80GB]" into buf, or NULL when the database lacks it. */
const char *pciname_lookup(unsigned vendor, unsigned device, char *buf, size_t size);

#endif
