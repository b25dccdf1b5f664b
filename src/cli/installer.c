/* What the install steps share (see installer.h). */
#include "installer.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void inst_note(struct inst *c, const char *path, const char *what)
{
	if (!c->dry_run)
		c->changed = true;
	json_object_array_add(c->files, json_object_new_string(path));
	if (!c->json)
		printf("%s%s: %s\n", c->dry_run ? "would change " : "", path, what);
}

int inst_fail(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qemu-p2p: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return err;
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
