/* Real-binary resolution (see resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static bool runnable_other(const char *path, const struct stat *self)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return false;
	return !(self && st.st_dev == self->st_dev && st.st_ino == self->st_ino);
}

static int take(const char *path, char **out)
{
	*out = strdup(path);
	return *out ? 0 : -ENOMEM;
}

static bool in_list(const char *list, const char *dir)
{
	size_t len = strlen(dir);

	for (const char *p = list; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL)
		if (!strncmp(p, dir, len) && (p[len] == ':' || !p[len]))
			return true;
	return false;
}

/* Searches dirs after `self_dir` (all of them when self_dir is not one). */
static int search(const struct resolve_in *in, const struct stat *self, const char *self_dir, char **out)
{
	_cleanup_free_ char *dirs = strdup(in->search_path);
	char *save = NULL, path[4096];
	bool seen_self = !self_dir || !in_list(in->search_path, self_dir);

	if (!dirs)
		return -ENOMEM;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (!seen_self) {
			seen_self = self_dir && !strcmp(d, self_dir);
			continue;
		}
		snprintf(path, sizeof(path), "%s/qemu-system-%s", d, in->arch);
		if (runnable_other(path, self))
			return take(path, out);
	}
	return -ENOENT;
}

int resolve_qemu(const struct resolve_in *in, char **out, struct err *e)
{
	struct stat self_st;
	const struct stat *self = in->self && stat(in->self, &self_st) == 0 ? &self_st : NULL;
	_cleanup_free_ char *self_dir = in->self ? strdup(in->self) : NULL;
	char real[4096];
	int r;

	if (in->config_binary && runnable_other(in->config_binary, self))
		return take(in->config_binary, out);
	if (in->self) {
		snprintf(real, sizeof(real), "%s.real", in->self);
		if (runnable_other(real, self))
			return take(real, out);
	}
	if (self_dir && strrchr(self_dir, '/'))
		*strrchr(self_dir, '/') = '\0';
	r = search(in, self, self_dir, out);
	if (r != -ENOENT)
		return r;
	if (in->fallback && runnable_other(in->fallback, self))
		return take(in->fallback, out);
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
