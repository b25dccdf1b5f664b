/* The package manager's side of divert mode: the dpkg diversion that sends
 * QEMU updates to PATH.real, the hard link PATH.real, and on RPM hosts (no
 * diversions) the dnf actions that put the wrapper back after an update. */
#include "pkghooks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "common.h"

/* dpkg-divert --local --no-rename, under --root when given. */
int pkg_divert(struct inst *c, bool add)
{
	char real[300], *argv[12];
	_cleanup_free_ char *out = NULL;
	int n = 0, status = 0;

	snprintf(real, sizeof(real), "%s.real", c->l.packaged);
	argv[n++] = (char *)"/usr/bin/dpkg-divert";
	if (c->l.root[0]) {
		argv[n++] = (char *)"--root";
		argv[n++] = c->l.root;
	}
	argv[n++] = (char *)"--truename";
	argv[n++] = c->l.packaged;
	argv[n] = NULL;
	if (cli_capture(argv, &out, &status) == 0 && !strncmp(out, real, strlen(real)) == add)
		return 0; /* already as wanted */
	n -= 2;
	argv[n++] = (char *)"--local";
	argv[n++] = (char *)"--no-rename";
	if (add) {
		argv[n++] = (char *)"--divert";
		argv[n++] = real;
	}
	argv[n++] = (char *)(add ? "--add" : "--remove");
	argv[n++] = c->l.packaged;
	argv[n] = NULL;
	inst_note(c, c->l.packaged, add ? "dpkg diversion to .real" : "dpkg diversion removed");
	free(out);
	out = NULL;
	if (!c->dry_run && (cli_capture(argv, &out, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)))
		return inst_fail(c, -EIO, "%s: dpkg-divert failed: %.*s", c->l.packaged,
				 out ? (int)strcspn(out, "\n") : 0, out ? out : "");
	return 0;
}

/* divert step 1: the packaged binary also as PATH.real (same inode). When
 * a package update put a new QEMU at the path (rpm has no diversions), it
 * replaces the old .real: that is the repair the dnf action runs. */
int pkg_link_real(struct inst *c)
{
	struct rpath packaged;
	const char *path = layout_path(&c->l, c->l.packaged, &packaged);
	char real[PATH_MAX + 300], tmp[PATH_MAX + 320];
	struct stat a, b;

	snprintf(real, sizeof(real), "%s.real", path);
	snprintf(tmp, sizeof(tmp), "%s.qemu-p2p-new", real);
	if (stat(real, &b) == 0 && cli_is_wrapper(real))
		return inst_fail(c, -EINVAL, "%s: is qemu-p2p-wrap, not QEMU; reinstall QEMU", real);
	if (stat(path, &a) < 0)
		return inst_fail(c, -errno, "%s: no QEMU there to divert: %s", path, strerror(errno));
	if (cli_is_wrapper(path))
		return access(real, X_OK) == 0
			       ? 0
			       : inst_fail(c, -ENOENT, "%s: is qemu-p2p-wrap but %s.real is missing; reinstall QEMU",
					   path, path);
	if (stat(real, &b) == 0 && a.st_ino == b.st_ino)
		return 0;
	inst_note(c, real + strlen(c->l.root), "hard link to the packaged QEMU");
	unlink(tmp);
	if (!c->dry_run && (link(path, tmp) < 0 || rename(tmp, real) < 0))
		return inst_fail(c, -errno, "%s: cannot link: %s", real, strerror(errno));
	return 0;
}

/* rpm: no diversions; dnf re-runs install after a qemu-kvm update, through
 * whichever actions plugin is there (its directory exists): creating the
 * directory of a plugin that is not installed would do nothing. */
int pkg_dnf_actions(struct inst *c, bool add)
{
	static const char *const files[][2] = {
		{ "/etc/dnf/plugins/post-transaction-actions.d/qemu-p2p.action",
		  "# qemu-p2p: put the wrapper back after a QEMU update (divert mode)\n"
		  "qemu-kvm-core:in:" QEMU_P2P_CLI_PATH " install --mode divert --json\n" },
		{ "/etc/dnf/libdnf5-plugins/actions.d/qemu-p2p.actions",
		  "# qemu-p2p: put the wrapper back after a QEMU update (divert mode)\n"
		  "post_transaction:qemu-kvm-core:in::" QEMU_P2P_CLI_PATH " install --mode divert --json\n" },
	};
	struct err e = { { 0 } };
	bool plugin = false;

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct rpath at;
		const char *path = layout_path(&c->l, files[i][0], &at);
		_cleanup_free_ char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
		int r;

		if (!dir)
			return -ENOMEM;
		if (add && access(dir, F_OK) == 0) {
			plugin = true;
			if (file_holds(path, files[i][1], strlen(files[i][1])))
				continue;
			inst_note(c, files[i][0], "dnf action: reinstall after qemu-kvm updates");
			if (!c->dry_run && (r = atomic_write(path, files[i][1], strlen(files[i][1]), 0644, &e)) < 0)
				return inst_fail(c, r, "%s", e.msg);
		} else if (!add && access(path, F_OK) == 0) {
			inst_note(c, files[i][0], "removed");
			if (!c->dry_run)
				unlink(path);
		}
	}
	if (add && !plugin) /* stdout carries the JSON */
		fprintf(c->json ? stderr : stdout,
			"no dnf actions plugin (python3-dnf-plugin-post-transaction-actions, libdnf5-plugin-actions):\n"
			"after each qemu-kvm update, run \"qemu-p2p install --mode divert\" again\n");
	return 0;
}
