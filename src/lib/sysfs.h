/* Reading PCI functions under a sysfs root opened once as a directory
 * descriptor; every file is opened relative to it with openat(), so tests
 * and captured hosts are read exactly like /sys. */
#ifndef QP2P_SYSFS_H
#define QP2P_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#include "pci.h"

#define SYSFS_DEFAULT_ROOT "/sys"
#define PCI_CONFIG_MAX 4096

/* Opens root as a directory; the descriptor is owned by the caller. */
int sysfs_open(const char *root, int *dirfd);

/* A hex attribute such as vendor, device or class ("0x10de\n"). */
int sysfs_read_hex(int root, const struct pci_addr *a, const char *attr, unsigned long *out);

/* A text attribute such as max_link_speed, without its newline. */
int sysfs_read_str(int root, const struct pci_addr *a, const char *attr, char *buf, size_t size);

/* A decimal attribute such as numa_node ("-1\n"). */
int sysfs_read_long(int root, const struct pci_addr *a, const char *attr, long *out);

/* Last component of a link such as driver or iommu_group (owned). */
int sysfs_read_link_name(int root, const struct pci_addr *a, const char *attr, char **out);

/* A function's identity as the kernel read it at enumeration. */
struct pci_ident {
	unsigned vendor, device, subvendor, subdevice;
	unsigned long cls; /* 24-bit class code */
};

/* One read of the modalias attribute, which holds all of it
 * ("pci:v000010DEd00002330sv000010DEsd000016C1bc03sc02i00"); where a tree
 * has none (an older capture), the vendor, device, class and subsystem_*
 * files. Cached by the kernel: no config-space access, which on a real host
 * goes to the device (and may wake a suspended one) for every dword. */
int sysfs_read_ident(int root, const struct pci_addr *a, struct pci_ident *out);

/* config space as far as it is readable (64 bytes unprivileged). */
int sysfs_read_config(int root, const struct pci_addr *a, uint8_t *buf, size_t *len);

/* The device's real directory relative to root, e.g.
 * "devices/pci0000:00/0000:00:01.0/0000:05:00.0"; relative links are resolved
 * lexically and never leave root. Owned result. */
int sysfs_device_path(int root, const struct pci_addr *a, char **out);

/* Address of the function behind an iommufd/vfio cdev descriptor: follows
 * proc/self/fd/N (under proc root `proc`) to /dev/vfio/devices/vfioX and then
 * class/vfio-dev/vfioX/device under the sysfs root. */
int sysfs_addr_from_fd(int proc, int root, int fd, struct pci_addr *out);

/* The entries of dir (below root) named as PCI addresses, sorted (owned
 * array): kernel/iommu_groups/N/devices, say. */
int sysfs_list_dir(int root, const char *dir, struct pci_addr **out, size_t *n);

/* Every PCI function under bus/pci/devices, sorted (owned array). */
int sysfs_list_functions(int root, struct pci_addr **out, size_t *n);

/* The functions bound to a driver (bus/pci/drivers/DRIVER), sorted (owned);
 * -ENOENT when no function ever was. */
int sysfs_list_bound(int root, const char *driver, struct pci_addr **out, size_t *n);

/* Address from a QEMU sysfsdev= path; -ENODEV for mdev paths. */
int sysfs_addr_from_sysfsdev(const char *path, struct pci_addr *out);

#endif
