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
};

/* Records that path changes (or would, with --dry-run), and says how. */
void inst_note(struct inst *c, const char *path, const char *what);

/* Says why a step failed on stderr; returns err (a -errno) to pass up. */
int inst_fail(int err, const char *fmt, ...) _printf_(2, 3);

/* A step is complete. In test builds (QP2P_TEST_HOOKS) the environment
 * variable QEMU_P2P_TEST_KILL_AFTER=N kills the process after step N, as a
 * power cut would; in the installed program it does nothing. */
void inst_step_done(struct inst *c);

#endif
