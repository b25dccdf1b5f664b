/* Asking a running QEMU, through libvirt, which vfio-pci devices it has now
 * and the clique each carries: devices re-attached over QMP (Nova's
 * suspend/resume) are not on the command line. libvirt marks a domain
 * tainted after a monitor command, so this is opt-in (vms --qmp). */
#ifndef QP2P_QMP_H
#define QP2P_QMP_H

#include <json.h>
#include <stdbool.h>

#include "vmscan.h"

/* The domain's live vfio-pci devices as a JSON array of {"id", "host",
 * "clique" (null when unset), "on_command_line"}; NULL with why in err
 * (virsh missing, domain unknown to libvirt, QMP error). Owned. */
struct json_object *qmp_vfio_devices(const struct vm *v, char *err, size_t size);

#endif
