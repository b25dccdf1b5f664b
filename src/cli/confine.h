/* The AppArmor rules (the local include of libvirt's VM abstraction) and
 * the SELinux file contexts the wrapper needs inside each VM's confinement:
 * added by install, removed by uninstall. */
#ifndef QP2P_CONFINE_H
#define QP2P_CONFINE_H

#include "installer.h"

/* Adds or removes our block in the local include; nothing without
 * AppArmor's libvirt abstraction. 0 or -errno. */
int confine_apparmor(struct inst *c, bool add);

/* semanage fcontext and restorecon where SELinux is on (not under --root). */
void confine_selinux(struct inst *c, bool add);

#endif
