/* Real-binary resolution (see resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Runnable, and not the wrapper: not its inode, nor (when the wrapper's
 * own stat failed) its path. */
static bool runnable_other(const char *path, const struct resolve_in *in, const struct stat *self)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return false;
	if (self)
		return !(st.st_dev == self->st_dev && st.st_ino == self->st_ino);
	return !(in->self && !strcmp(path, in->self));
}

static int take(const char *path, char *out, size_t size)
{
	return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Searches the directories of the list after self_dir (all of them when
 * self_dir is not one). No allocation: this step must not fail for memory. */
static int search(const struct resolve_in *in, const struct stat *self, const char *self_dir, char *out,
		  size_t size)
{
	size_t self_len = self_dir ? strlen(self_dir) : 0;
	bool seen_self = true;
	char path[4096];

	for (const char *d = in->search_path; self_dir && d; d = strchr(d, ':') ? strchr(d, ':') + 1 : NULL)
		if (strcspn(d, ":") == self_len && !strncmp(d, self_dir, self_len))
			seen_self = false;
	for (const char *d = in->search_path; d && *d; d = strchr(d, ':') ? strchr(d, ':') + 1 : NULL) {
		size_t len = strcspn(d, ":");

		if (!seen_self) {
			seen_self = len == self_len && !strncmp(d, self_dir, len);
			continue;
		}
		snprintf(path, sizeof(path), "%.*s/qemu-system-%s", (int)len, d, in->arch);
		if (runnable_other(path, in, self))
			return take(path, out, size);
	}
	return -ENOENT;
}

int resolve_qemu(const struct resolve_in *in, char *out, size_t size, struct err *e)
{
	struct stat self_st;
	const struct stat *self = in->self && stat(in->self, &self_st) == 0 ? &self_st : NULL;
	char real[4096], self_dir[4096] = "";
	const char *slash = in->self ? strrchr(in->self, '/') : NULL;
	int r;

	if (in->config_binary && runnable_other(in->config_binary, in, self))
		return take(in->config_binary, out, size);
	if (in->self) {
		snprintf(real, sizeof(real), "%s.real", in->self);
		if (runnable_other(real, in, self))
			return take(real, out, size);
	}
	if (slash)
		snprintf(self_dir, sizeof(self_dir), "%.*s", (int)(slash - in->self), in->self);
	r = search(in, self, slash ? self_dir : NULL, out, size);
	if (r != -ENOENT)
		return r;
	if (in->fallback && runnable_other(in->fallback, in, self))
		return take(in->fallback, out, size);
	err_set(e, "no QEMU to run: no [qemu] binary, no %s.real, no other qemu-system-%s in %s, no %s",
		in->self ? in->self : "<wrapper>", in->arch, in->search_path, in->fallback ? in->fallback : "fallback");
	return -ENOENT;
}

const char *resolve_arch_from_name(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *p;

	base = base ? base + 1 : path;
	p = strstr(base, "qemu-system-");
	if (!p || !p[12])
		return NULL;
	return p + 12;
}
