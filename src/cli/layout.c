/* Paths for install, uninstall and status (see layout.h). */
#include "layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef QEMU_P2P_WRAPPER_PATH
#define QEMU_P2P_WRAPPER_PATH "/usr/libexec/qemu-p2p/qemu-p2p-wrap"
#endif

const char *layout_path(const struct layout *l, const char *path, struct rpath *buf)
{
	snprintf(buf->s, sizeof(buf->s), "%s%s", l->root, path);
	return buf->s;
}

static void find_wrapper(struct layout *l, const char *wrapper)
{
	char self[PATH_MAX];
	ssize_t n;

	if (wrapper) {
		snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s", wrapper);
		return;
	}
	snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s", QEMU_P2P_WRAPPER_PATH);
	if (access(l->wrapper_src, X_OK) == 0)
		return;
	/* Run from a build tree: build/src/cli/qemu-p2p -> build/src/wrap/. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s/../wrap/qemu-p2p-wrap", dirname(self));
	}
}

int layout_init(struct layout *l, const char *root, const char *arch, const char *wrapper)
{
	struct rpath p;

	*l = (struct layout){ 0 };
	if (root && strcmp(root, "/"))
		snprintf(l->root, sizeof(l->root), "%s", root);
	while (l->root[0] && l->root[strlen(l->root) - 1] == '/')
		l->root[strlen(l->root) - 1] = '\0';
	snprintf(l->arch, sizeof(l->arch), "%s", arch);
	l->dpkg = access(layout_path(l, "/var/lib/dpkg/status", &p), F_OK) == 0;
	l->rpm = !l->dpkg && (access(layout_path(l, "/usr/libexec/qemu-kvm", &p), F_OK) == 0 ||
			      access(layout_path(l, "/etc/redhat-release", &p), F_OK) == 0);
	if (l->rpm) {
		/* Free there, found before the /usr/libexec/qemu-kvm fallback and
		 * already labelled qemu_exec_t (FACTS §5). */
		snprintf(l->packaged, sizeof(l->packaged), "/usr/libexec/qemu-kvm");
		snprintf(l->shadow, sizeof(l->shadow), "/usr/bin/qemu-system-%s", arch);
	} else {
		snprintf(l->packaged, sizeof(l->packaged), "/usr/bin/qemu-system-%s", arch);
		snprintf(l->shadow, sizeof(l->shadow), "/usr/local/bin/qemu-system-%s", arch);
	}
	snprintf(l->state, sizeof(l->state), "%s/install.state", INSTALL_STATE_DIR);
	find_wrapper(l, wrapper);
	return 0;
}

enum install_mode layout_state(const struct layout *l, char *path, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char mode[32] = "";
	struct rpath state;
	const char *p;

	path[0] = '\0';
	if (read_file_at(AT_FDCWD, layout_path(l, l->state, &state), 4096, &text, NULL) < 0)
		return INSTALL_NONE;
	if ((p = strstr(text, "mode = ")))
		sscanf(p, "mode = %31s", mode);
	if ((p = strstr(text, "wrapper = ")))
		snprintf(path, size, "%.*s", (int)strcspn(p + 10, "\n"), p + 10);
	return !strcmp(mode, "divert") ? INSTALL_DIVERT : !strcmp(mode, "shadow") ? INSTALL_SHADOW : INSTALL_NONE;
}

/* The text between <emulator> and </emulator>, or "" (libvirt fills it at
 * define time; XML escapes do not occur in these paths). */
static void emulator_of(const char *xml, char *out, size_t size)
{
	const char *a = strstr(xml, "<emulator>"), *b = a ? strstr(a, "</emulator>") : NULL;

	out[0] = '\0';
	if (a && b)
		snprintf(out, size, "%.*s", (int)(b - a - 10), a + 10);
}

int domains_list(const struct layout *l, struct domain **out, size_t *n)
{
	struct rpath dir;
	DIR *d = opendir(layout_path(l, "/etc/libvirt/qemu", &dir));
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		_cleanup_free_ char *path = NULL, *xml = NULL;
		struct domain dom = { 0 };

		if (len < 5 || strcmp(e->d_name + len - 4, ".xml"))
			continue;
		if (asprintf(&path, "%s/%s", dir.s, e->d_name) < 0 ||
		    read_file_at(AT_FDCWD, path, 1 << 20, &xml, NULL) < 0)
			continue;
		snprintf(dom.name, sizeof(dom.name), "%.*s", (int)(len - 4), e->d_name);
		emulator_of(xml, dom.emulator, sizeof(dom.emulator));
		if (grow_array((void **)out, n, sizeof(dom), &dom) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	return 0;
}
