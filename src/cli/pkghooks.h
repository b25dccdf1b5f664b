/* Divert mode and the package manager: the dpkg diversion, the hard link
 * PATH.real, the dnf actions on RPM hosts. Each 0 or -errno. */
#ifndef QP2P_PKGHOOKS_H
#define QP2P_PKGHOOKS_H

#include "installer.h"

/* The packaged QEMU also as PATH.real (same inode); after an RPM update
 * put a new QEMU at the path, it replaces the old .real. */
int pkg_link_real(struct inst *c);

/* dpkg-divert --local --no-rename of the packaged path to PATH.real. */
int pkg_divert(struct inst *c, bool add);

/* dnf4 and dnf5 actions that run install again after a qemu-kvm update. */
int pkg_dnf_actions(struct inst *c, bool add);

#endif
