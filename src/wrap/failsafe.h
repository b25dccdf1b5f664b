/* What keeps a VM starting whatever happens to the wrapper itself (DESIGN:
 * a wrapper bug must never stop a VM that would start without it):
 *  - SIGPIPE is ignored while the wrapper runs: a log line written to a
 *    pipe whose reader is gone (virtlogd restarted) cannot kill it;
 *  - a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT: a bug, or a library
 *    that dereferences a failed allocation) execs the real QEMU with the
 *    original argv;
 *  - QEMU gets exactly the signal dispositions and mask the wrapper got
 *    from libvirt: both are put back before every exec. */
#ifndef QP2P_FAILSAFE_H
#define QP2P_FAILSAFE_H

#include "resolve.h"

/* Arms the guards. argv (the original, borrowed) and `without_config`
 * (how to find QEMU before the configuration is read, borrowed) must stay
 * valid until exec. */
void failsafe_arm(char *const *argv, const struct resolve_in *without_config);

/* The QEMU a crash from now on execs (borrowed, valid until exec). */
void failsafe_set_qemu(const char *real);

/* execv(real, argv) with the inherited signal state back. Returns only on
 * failure, errno set, the guards armed again. */
void failsafe_exec(const char *real, char *const *argv);

#endif
