/* Real-binary resolution (see resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Each directory of a ':'-separated list, as a pointer and a length. */
#define for_each_dir(d, len, list) \
	for (const char *d = (list); d && *d && ((len) = strcspn(d, ":"), true); d = d[len] ? d + len + 1 : NULL)

static bool runnable(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && S_ISREG(st->st_mode) && access(path, X_OK) == 0;
}

/* Runnable, and not the wrapper: not its inode, nor (when the wrapper's
 * own stat failed) its path. */
static bool runnable_other(const char *path, const struct resolve_in *in, const struct stat *self)
{
	struct stat st;

	if (!runnable(path, &st))
		return false;
	if (self)
		return !(st.st_dev == self->st_dev && st.st_ino == self->st_ino);
	return !(in->self && !strcmp(path, in->self));
}

static int take(const char *path, char *out, size_t size)
{
	return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
}

static void candidate(char *path, size_t size, const char *dir, size_t len, const char *arch)
{
	snprintf(path, size, "%.*s/qemu-system-%s", (int)len, dir, arch);
}

int resolve_on_path(const char *search_path, const char *arch, char *out, size_t size)
{
	struct stat st;
	char path[4096];
	size_t len;

	for_each_dir(d, len, search_path)
	{
		candidate(path, sizeof(path), d, len, arch);
		if (runnable(path, &st))
			return take(path, out, size);
	}
	return -ENOENT;
}

static bool lists_dir(const char *list, const char *dir, size_t dir_len)
{
	size_t len;

	for_each_dir(d, len, list) if (len == dir_len && !strncmp(d, dir, len)) return true;
	return false;
}

/* Searches the directories of the list after self_dir (all of them when
 * self_dir is not one). No allocation: this step must not fail for memory. */
static int search(const struct resolve_in *in, const struct stat *self, const char *self_dir, char *out, size_t size)
{
	size_t self_len = self_dir ? strlen(self_dir) : 0, len;
	bool seen_self = !self_dir || !lists_dir(in->search_path, self_dir, self_len);
	char path[4096];

	for_each_dir(d, len, in->search_path)
	{
		if (!seen_self) {
			seen_self = len == self_len && !strncmp(d, self_dir, len);
			continue;
		}
		candidate(path, sizeof(path), d, len, in->arch);
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
