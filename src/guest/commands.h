/* The subcommands of qemu-p2p-guest, one file each; each returns the exit
 * status (0 ok, 1 failure, EXIT_USAGE usage; check and boot: 2 no driver
 * or GPU; status: boot's own). */
#ifndef QP2P_GUEST_COMMANDS_H
#define QP2P_GUEST_COMMANDS_H

#include "cliout.h"

int cmd_cliques(int argc, char **argv);
int cmd_nccl_topo(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
