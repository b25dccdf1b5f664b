/* The subcommands of `qemu-p2p`, one file each. Each returns the process
 * exit status: 0 ok, 1 failure, EXIT_USAGE for a usage error. */
#ifndef QP2P_COMMANDS_H
#define QP2P_COMMANDS_H

#include "cliout.h" /* EXIT_USAGE */

int cmd_refresh(int argc, char **argv);
int cmd_rewrite(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_uninstall(int argc, char **argv);
int cmd_vms(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_topo(int argc, char **argv);

#endif
