/* What the install steps share (see installer.h). */
#include "installer.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cliout.h"

void inst_note(struct inst *c, const char *path, const char *what)
{
	if (!c->dry_run)
		c->changed = true;
	json_object_array_add(c->files, json_object_new_string(path));
	if (!c->json)
		printf("%s%s: %s\n", c->dry_run ? "would change " : "", path, what);
}

int inst_fail(struct inst *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	cli_error("%s", c->error);
	return err;
}

int inst_mkdir(struct inst *c, const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	struct rpath at;
	int r;

	if (!dir)
		return -ENOMEM;
	dir[strrchr(dir, '/') - dir] = '\0';
	if (!dir[0] || access(layout_path(&c->l, dir, &at), F_OK) == 0)
		return 0;
	inst_note(c, dir, "directory created");
	if (!c->dry_run && (r = mkdir_parents(at.s)) < 0)
		return inst_fail(c, r, "%s: cannot create the directory: %s", at.s, strerror(-r));
	return 0;
}

void inst_step_done(struct inst *c)
{
	c->step++;
#ifdef QP2P_TEST_HOOKS
	const char *k = getenv("QEMU_P2P_TEST_KILL_AFTER");

	if (k && atoi(k) == c->step)
		raise(SIGKILL);
#endif
}
