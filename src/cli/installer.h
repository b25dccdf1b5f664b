/* One install or uninstall run: its options, its layout and what it
 * changed, shared by the steps in cmd_install.c (the flow), confine.c
 * (AppArmor, SELinux) and pkghooks.c (dpkg-divert, dnf actions). */
#ifndef QP2P_INSTALLER_H
#define QP2P_INSTALLER_H

#include <json.h>
#include <stdbool.h>

#include "layout.h"
#include "util.h"

struct inst {
	struct layout l;
	enum install_mode mode;
	bool dry_run, json, purge, redefine, no_refresh;
	bool changed;
	struct json_object *files, *domains; /* what changed, for --json */
	int step;
	char wrapper_at[256]; /* in-root path of the wrapper */
	char error[512];      /* why it failed, for --json */
};

/* Records that path changes (or would, with --dry-run), and says how. */
void inst_note(struct inst *c, const char *path, const char *what);

/* Says why a step failed (cli_error: "qemu-p2p COMMAND: WHAT: WHY") and
 * keeps it for --json; returns err (a -errno) to pass up. */
int inst_fail(struct inst *c, int err, const char *fmt, ...) _printf_(3, 4);

/* Creates the directory of path (in-root) when missing: for what is
 * install's own (the wrapper's directory, /etc/qemu-p2p.d,
 * /var/lib/qemu-p2p, AppArmor's local include). 0 or -errno (said). */
int inst_mkdir(struct inst *c, const char *path);

/* A step is complete. In test builds (QP2P_TEST_HOOKS) the environment
 * variable QEMU_P2P_TEST_KILL_AFTER=N kills the process after step N, as a
 * power cut would; in the installed program it does nothing. */
void inst_step_done(struct inst *c);

#endif
