/* Asking a running QEMU, through libvirt, which vfio-pci devices it has now
 * and the clique each carries: devices re-attached over QMP (Nova's
 * suspend/resume) are not on the command line. libvirt marks a domain
 * tainted after a monitor command, so this is opt-in (vms --qmp). */
#ifndef QP2P_QMP_H
#define QP2P_QMP_H

#include <json.h>
#include <stdbool.h>

#include "vmscan.h"

/* A vfio-pci device the running QEMU has. */
struct live_dev {
	char id[64];
	char host[32];
	int clique;           /* -1 when unset (QEMU says 255) */
	bool on_command_line; /* else attached later, over QMP */
};

/* The domain's live vfio-pci devices (owned array); -1 with why in err
 * (virsh missing, domain unknown to libvirt, QMP error). */
int qmp_vfio_devices(const struct vm *v, struct live_dev **out, size_t *n, char *err, size_t size);

#endif
