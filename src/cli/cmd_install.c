/* qemu-p2p install and uninstall: put the wrapper where libvirt (shadow) or
 * the packaged path (divert) finds it, allow it under AppArmor, record what
 * was done; and undo it without stranding a defined VM. Every step is
 * atomic and idempotent, and a runnable QEMU stays at each path at every
 * instant, so an installer killed anywhere is finished by running it again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "common.h"
#include "confine.h"
#include "installer.h"
#include "pkghooks.h"
#include "resolve.h"

static void help_install(void)
{
	printf("Usage: qemu-p2p install [OPTIONS]\n\n"
	       "Activate the wrapper: libvirt (and Proxmox in divert mode) then start VMs\n"
	       "through it. Records host facts (refresh), adds the AppArmor rules the wrapper\n"
	       "needs, and runs a self-test. Never edits /etc/qemu-p2p.conf. Creates what it\n"
	       "owns when missing: the wrapper's directory, /etc/qemu-p2p.d (host facts),\n"
	       "/var/lib/qemu-p2p (its state) and AppArmor's local include for libvirt; no\n"
	       "other directory. Needs root (--dry-run does not). Exits 1 when the self-test\n"
	       "or refresh fails: VMs would then not start, or start without cliques.\n\n"
	       "Options:\n"
	       "  -m, --mode MODE    shadow (default): the wrapper at /usr/local/bin/qemu-system-ARCH\n"
	       "                     (RHEL: /usr/bin/qemu-system-ARCH), the packaged QEMU untouched;\n"
	       "                     divert: the wrapper at the packaged path, QEMU kept beside it as\n"
	       "                     PATH.real (dpkg-divert), for Proxmox and hand-written domains\n"
	       "      --root DIR     every path relative to DIR (image builds, tests)\n"
	       "      --arch ARCH    QEMU target (default x86_64)\n"
	       "      --wrapper FILE the qemu-p2p-wrap to install (default: the installed one);\n"
	       "                     anything else is refused\n"
	       "      --no-refresh   skip refresh and the self-test (image builds: run refresh\n"
	       "                     when the container starts on its host)\n"
	       "  -n, --dry-run      print every step; change nothing\n"
	       "  -j, --json         print what changed as JSON\n"
	       "  -h, --help         show this help\n");
}

static void help_uninstall(void)
{
	printf("Usage: qemu-p2p uninstall [OPTIONS]\n\n"
	       "Undo install. Domains defined while the wrapper was installed name its path:\n"
	       "the wrapper is then replaced by a link to the packaged QEMU so they keep\n"
	       "starting (without P2P), and they are listed with how to define them again.\n"
	       "A domain file in /etc/libvirt/qemu that cannot be read or parsed is named\n"
	       "and counted as naming the wrapper. Needs root (--dry-run does not).\n\n"
	       "Options:\n"
	       "      --redefine     define those domains again with the packaged QEMU (through\n"
	       "                     libvirt, which must be running), so nothing names the wrapper\n"
	       "                     and it is removed, not linked\n"
	       "      --purge        also remove that link when no defined domain names it,\n"
	       "                     the host file and our state\n"
	       "      --root DIR     every path relative to DIR\n"
	       "      --arch ARCH    QEMU target (default x86_64)\n"
	       "  -n, --dry-run      print every step; change nothing\n"
	       "  -j, --json         print what changed as JSON\n"
	       "  -h, --help         show this help\n");
}

/* Copies the wrapper to dst (in-root) unless it is already there. */
static int put_wrapper(struct inst *c, const char *dst)
{
	struct rpath at;
	const char *path = layout_path(&c->l, dst, &at);
	_cleanup_free_ char *data = NULL;
	struct err e = { { 0 } };
	size_t len = 0;
	struct stat st;
	int r;

	if (c->mode == INSTALL_SHADOW && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && !cli_is_wrapper(path))
		return inst_fail(c, -EEXIST, "%s: exists and is not qemu-p2p-wrap; move it away first", path);
	if ((r = read_file_at(AT_FDCWD, c->l.wrapper_src, 1 << 26, &data, &len)) < 0)
		return inst_fail(c, r, "%s: cannot read the wrapper: %s", c->l.wrapper_src, err_text(r));
	if (file_holds(path, data, len))
		return 0;
	if ((r = inst_mkdir(c, dst)) < 0)
		return r;
	inst_note(c, dst, "qemu-p2p-wrap");
	if (!c->dry_run && (r = atomic_write(path, data, len, 0755, &e)) < 0)
		return inst_fail(c, r, "%s", e.msg);
	return 0;
}

static int write_state(struct inst *c)
{
	char text[600];
	struct rpath state;
	struct err e = { { 0 } };
	int r;

	snprintf(text, sizeof(text), "# qemu-p2p install state; do not edit\nmode = %s\nwrapper = %s\nreal = %s%s\n",
		 c->mode == INSTALL_DIVERT ? "divert" : "shadow", c->wrapper_at, c->l.packaged,
		 c->mode == INSTALL_DIVERT ? ".real" : "");
	if (file_holds(layout_path(&c->l, c->l.state, &state), text, strlen(text)))
		return 0;
	if ((r = inst_mkdir(c, c->l.state)) < 0)
		return r;
	inst_note(c, c->l.state, "install state");
	if (!c->dry_run && (r = atomic_write(state.s, text, strlen(text), 0644, &e)) < 0)
		return inst_fail(c, r, "%s", e.msg);
	return 0;
}

/* The first line of a program's output, for a one-line message. */
static int first_line(const char *out)
{
	return out ? (int)strcspn(out, "\n") : 0;
}

/* refresh (host facts: without them the wrapper adds no clique), then QEMU
 * -version through the wrapper (if that fails, so does every VM start). */
static int self_test(struct inst *c)
{
	struct rpath wrapper;
	char *argv[] = { (char *)layout_path(&c->l, c->wrapper_at, &wrapper), (char *)"-version", NULL };
	char *rf[] = { (char *)"/proc/self/exe", (char *)"refresh", NULL };
	_cleanup_free_ char *out = NULL, *rout = NULL;
	FILE *o = c->json ? stderr : stdout; /* stdout carries the JSON */
	int status = 0, r;

	if (c->l.root[0] || c->dry_run || c->no_refresh) {
		fprintf(o, "refresh and self-test skipped%s: run \"qemu-p2p refresh\" on the host itself\n",
			c->dry_run      ? " (dry run)"
			: c->no_refresh ? " (--no-refresh)"
					: " under --root");
		return 0;
	}
	if ((r = inst_mkdir(c, "/etc/qemu-p2p.d/host.conf")) < 0)
		return r;
	if ((r = cli_capture(rf, &rout, &status)) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fputs(rout ? rout : "", stderr);
		return inst_fail(c, r < 0 ? r : -EIO,
				 "refresh failed (%s); VMs start without cliques until \"qemu-p2p refresh\" succeeds",
				 r < 0 ? strerror(-r) : "its output is above");
	}
	fputs(rout, o);
	if (cli_capture(argv, &out, &status) == 0 && WIFEXITED(status) && !WEXITSTATUS(status) && strstr(out, "QEMU")) {
		fprintf(o, "self-test: %s -version reached %.*s\n", c->wrapper_at, first_line(out), out);
		return 0;
	}
	return inst_fail(c, -EIO,
			 "%s: self-test failed: -version did not reach QEMU (%.*s); VMs started through it "
			 "fail: fix it or run \"qemu-p2p uninstall\"",
			 c->wrapper_at, first_line(out), out ? out : "");
}

static int install(struct inst *c)
{
	int r = 0;

	if (c->mode == INSTALL_DIVERT && !c->l.dpkg && !c->l.rpm)
		return inst_fail(c, -ENOTSUP, "--mode divert: needs dpkg or rpm under %s",
				 c->l.root[0] ? c->l.root : "/");
	snprintf(c->wrapper_at, sizeof(c->wrapper_at), "%s", c->mode == INSTALL_DIVERT ? c->l.packaged : c->l.shadow);
	if (c->mode == INSTALL_DIVERT) {
		if ((r = pkg_link_real(c)) < 0)
			return r;
		inst_step_done(c);
		if ((r = c->l.dpkg ? pkg_divert(c, true) : pkg_dnf_actions(c, true)) < 0)
			return r;
		inst_step_done(c);
	}
	if ((r = put_wrapper(c, c->wrapper_at)) < 0)
		return r;
	inst_step_done(c);
	if ((r = confine_apparmor(c, true)) < 0)
		return r;
	confine_selinux(c, true);
	inst_step_done(c);
	if ((r = write_state(c)) < 0)
		return r;
	inst_step_done(c);
	if (!c->json && !c->dry_run)
		printf("installed (%s): %s\n", c->mode == INSTALL_DIVERT ? "divert" : "shadow", c->wrapper_at);
	if ((r = self_test(c)) < 0)
		return r;
	if (!c->json && !c->dry_run)
		printf("Next: domains defined before now keep their old emulator path until defined again\n"
		       "(Nova: hard reboot; libvirt: virsh define). Live migration carries the emulator\n"
		       "path: install on every migration target first.\n");
	return 0;
}

/* virsh dumpxml --inactive, <emulator> replaced (libxml2), virsh define. */
static int redefine(struct inst *c, const char *name, const char *from)
{
	char *dump[] = { (char *)"/usr/bin/virsh",  (char *)"-q",      (char *)"-c",
			 (char *)"qemu:///system",  (char *)"dumpxml", (char *)"--inactive",
			 (char *)"--security-info", (char *)name,      NULL };
	char tmpl[] = "/tmp/qemu-p2p-domain.XXXXXX";
	_cleanup_free_ char *xml = NULL, *out = NULL, *fixed = NULL;
	char *def[] = { (char *)"/usr/bin/virsh", (char *)"-q", (char *)"-c", (char *)"qemu:///system",
			(char *)"define",         tmpl,         NULL };
	struct err e = { { 0 } };
	int status = 1, fd, r;

	if (c->dry_run)
		return 0;
	if (cli_capture(dump, &xml, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return inst_fail(c, -EIO, "domain %s: virsh dumpxml failed: %.*s", name, first_line(xml),
				 xml ? xml : "");
	if ((r = domain_xml_set_emulator(xml, from, c->l.packaged, &fixed, &e)) < 0)
		return inst_fail(c, r, "domain %s: %s", name, e.msg);
	/* 0600: with --security-info the XML may hold passwords. */
	if ((fd = mkstemp(tmpl)) < 0)
		return inst_fail(c, -errno, "%s: %s", tmpl, strerror(errno));
	close(fd);
	if ((r = atomic_write(tmpl, fixed, strlen(fixed), 0600, &e)) == 0)
		cli_capture(def, &out, &status);
	unlink(tmpl);
	if (r < 0)
		return inst_fail(c, r, "%s", e.msg);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return inst_fail(c, -EIO, "domain %s: virsh define failed: %.*s", name, first_line(out),
				 out ? out : "");
	return 0;
}

/* Defined domains that may start path (redefined first with --redefine):
 * those that name it, and those whose file could not be read, which may. */
static size_t users(struct inst *c, const char *path)
{
	struct domain *d = NULL;
	size_t n = 0, count = 0;
	int r = domains_list(&c->l, &d, &n);

	if (r < 0) {
		cli_error("/etc/libvirt/qemu: cannot list the defined domains: %s; %s is kept as if one named it",
			  strerror(-r), path);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!domain_may_use(&d[i], path))
			continue;
		if (d[i].error[0])
			cli_error("/etc/libvirt/qemu/%s.xml: cannot be read: %s; counted as naming %s", d[i].name,
				  d[i].error, path);
		else if (c->redefine && redefine(c, d[i].name, path) == 0) {
			inst_note(c, d[i].name, "domain defined again with the packaged QEMU");
			continue;
		}
		count++;
		json_object_array_add(c->domains, json_object_new_string(d[i].name));
		if (!c->json)
			printf("domain %s %s %s\n", d[i].name, d[i].error[0] ? "may name" : "names", path);
	}
	free(d);
	return count;
}

static int uninstall_shadow(struct inst *c, const char *at)
{
	struct rpath wrapper;
	const char *path = layout_path(&c->l, at, &wrapper);
	char target[PATH_MAX] = "";
	size_t n = users(c, at);
	struct err e = { { 0 } };
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	int r;

	if (len > 0)
		target[len] = '\0';
	if (cli_is_wrapper(path) && len < 0) {
		if (n) {
			inst_note(c, at, "now a link to the packaged QEMU (domains above keep starting, without P2P)");
			if (!c->dry_run && (r = atomic_symlink(c->l.packaged, path, &e)) < 0)
				return inst_fail(c, r, "%s", e.msg);
			if (!c->json)
				printf("Define them again to use %s: virsh dumpxml NAME > x.xml; edit <emulator>; "
				       "virsh define x.xml (Nova: hard reboot)\n",
				       c->l.packaged);
		} else {
			inst_note(c, at, "removed");
			if (!c->dry_run && unlink(path) < 0)
				return inst_fail(c, -errno, "%s: cannot remove: %s", path, strerror(errno));
		}
	} else if (len > 0 && !strcmp(target, c->l.packaged) && c->purge && !n) {
		inst_note(c, at, "link removed (no domain names it)");
		if (!c->dry_run && unlink(path) < 0)
			return inst_fail(c, -errno, "%s: cannot remove: %s", path, strerror(errno));
	}
	inst_step_done(c);
	return 0;
}

/* Reverse order of install: QEMU back at the path, diversion, .real. */
static int uninstall_divert(struct inst *c)
{
	struct rpath packaged;
	const char *path = layout_path(&c->l, c->l.packaged, &packaged);
	char real[PATH_MAX + 300], tmp[PATH_MAX + 300];
	struct stat a, b;
	int r;

	snprintf(real, sizeof(real), "%s.real", path);
	snprintf(tmp, sizeof(tmp), "%s.qemu-p2p-restore", path);
	if (cli_is_wrapper(path) && stat(real, &b) == 0) {
		inst_note(c, c->l.packaged, "the packaged QEMU again");
		unlink(tmp);
		if (!c->dry_run && (link(real, tmp) < 0 || rename(tmp, path) < 0))
			return inst_fail(c, -errno, "%s: cannot put QEMU back: %s", path, strerror(errno));
	}
	inst_step_done(c);
	if ((r = c->l.dpkg ? pkg_divert(c, false) : pkg_dnf_actions(c, false)) < 0)
		return r;
	inst_step_done(c);
	if (stat(path, &a) == 0 && stat(real, &b) == 0 && a.st_ino == b.st_ino) {
		inst_note(c, real + strlen(c->l.root), "removed (same file as the packaged QEMU)");
		if (!c->dry_run && unlink(real) < 0)
			return inst_fail(c, -errno, "%s: cannot remove: %s", real, strerror(errno));
	}
	inst_step_done(c);
	return 0;
}

static void purge_files(struct inst *c)
{
	const char *const ours[] = { "/etc/qemu-p2p.d/host.conf", c->l.state };
	static const char *const dirs[] = { "/etc/qemu-p2p.d", INSTALL_STATE_DIR };

	struct rpath p;

	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		if (access(layout_path(&c->l, ours[i], &p), F_OK) == 0) {
			inst_note(c, ours[i], "removed");
			if (!c->dry_run)
				unlink(p.s);
		}
	for (size_t i = 0; !c->dry_run && i < ARRAY_SIZE(dirs); i++)
		rmdir(layout_path(&c->l, dirs[i], &p));
}

static int uninstall(struct inst *c)
{
	char at[256];
	struct rpath state;
	enum install_mode m = layout_state(&c->l, at, sizeof(at));
	int r;

	if (m == INSTALL_NONE)
		snprintf(at, sizeof(at), "%s", c->l.shadow);
	c->mode = m == INSTALL_NONE ? INSTALL_SHADOW : m;
	snprintf(c->wrapper_at, sizeof(c->wrapper_at), "%s", at);
	r = m == INSTALL_DIVERT ? uninstall_divert(c) : uninstall_shadow(c, at);
	if (r < 0 || (r = confine_apparmor(c, false)) < 0)
		return r;
	confine_selinux(c, false);
	inst_step_done(c);
	if (c->purge)
		purge_files(c);
	else if (access(layout_path(&c->l, c->l.state, &state), F_OK) == 0) {
		inst_note(c, c->l.state, "removed");
		if (!c->dry_run) {
			unlink(state.s);
			rmdir(layout_path(&c->l, INSTALL_STATE_DIR, &state)); /* install made it; kept if not empty */
		}
	}
	/* A dry run that would change nothing says so too, not silence. */
	if (!c->json && !json_object_array_length(c->files))
		printf("nothing to uninstall\n");
	else if (!c->json && !c->dry_run)
		printf("uninstalled\n");
	return 0;
}

struct run_opts {
	const char *cmd, *root, *arch, *wrapper;
	bool is_install;
};

/* An option of the other command: a usage error. */
static bool misplaced(const struct run_opts *o, bool for_install, const char *opt)
{
	if (o->is_install == for_install)
		return false;
	cli_usage(o->cmd, "%s belongs to %s", opt, for_install ? "install" : "uninstall");
	return true;
}

/* -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct run_opts *o, struct inst *c)
{
	static const struct option longs[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "arch", required_argument, NULL, 'a' },
		{ "wrapper", required_argument, NULL, 'w' },
		{ "purge", no_argument, NULL, 'P' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "redefine", no_argument, NULL, 'R' },
		{ "no-refresh", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, o->is_install ? "m:njh" : "njh", longs, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (misplaced(o, true, "--mode"))
				return EXIT_USAGE;
			if (strcmp(optarg, "shadow") && strcmp(optarg, "divert"))
				return cli_usage(o->cmd, "--mode %s: use shadow or divert", optarg);
			c->mode = strcmp(optarg, "divert") ? INSTALL_SHADOW : INSTALL_DIVERT;
			break;
		case 'r': o->root = optarg; break;
		case 'a': o->arch = optarg; break;
		case 'w': o->wrapper = optarg; break;
		case 'P': c->purge = true; break;
		case 'R': c->redefine = true; break;
		case 'F': c->no_refresh = true; break;
		case 'n': c->dry_run = true; break;
		case 'j': c->json = true; break;
		case 'h': o->is_install ? help_install() : help_uninstall(); return 0;
		default: return cli_bad_option(o->cmd, argv, longs);
		}
		if ((o->wrapper && misplaced(o, true, "--wrapper")) || (c->purge && misplaced(o, false, "--purge")) ||
		    (c->redefine && misplaced(o, false, "--redefine")) ||
		    (c->no_refresh && misplaced(o, true, "--no-refresh")))
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage(o->cmd, "unexpected argument '%s'", argv[optind]);
	if (c->redefine && o->root && strcmp(o->root, "/"))
		return cli_usage(o->cmd, "--redefine talks to the running libvirtd: not with --root");
	return -1;
}

static void print_json(const struct inst *c, int r)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "changed", json_object_new_boolean(c->changed));
	json_object_object_add(j, "dry_run", json_object_new_boolean(c->dry_run));
	json_object_object_add(j, "mode", json_object_new_string(c->mode == INSTALL_DIVERT ? "divert" : "shadow"));
	json_object_object_add(j, "wrapper", json_object_new_string(c->wrapper_at));
	json_object_object_add(j, "files", json_object_get(c->files));
	json_object_object_add(j, "domains", json_object_get(c->domains));
	json_object_object_add(j, "ok", json_object_new_boolean(r == 0));
	if (r < 0)
		json_object_object_add(j, "error", json_object_new_string(c->error));
	cli_print_json(j);
}

/* What install copies must be a qemu-p2p wrapper: a copy of anything else
 * at the emulator path would start every VM as that program. */
static int check_wrapper(const char *path, bool given)
{
	const char *how = given ? "given with --wrapper" : "the default; build it, or give --wrapper";
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;

		cli_error("%s: %s (%s)", path, strerror(-r), how);
		return r;
	}
	if (!S_ISREG(st.st_mode) || access(path, R_OK) < 0 || !cli_is_wrapper(path)) {
		cli_error("%s: %s; nothing installed (%s)", path,
			  !S_ISREG(st.st_mode)     ? "not a regular file"
			  : access(path, R_OK) < 0 ? "cannot be read"
						   : "not qemu-p2p-wrap (it lacks the wrapper's marker)",
			  how);
		return -EINVAL;
	}
	return 0;
}

static int run(int argc, char **argv, bool is_install)
{
	struct run_opts o = {
		.cmd = is_install ? "install" : "uninstall",
		.arch = RESOLVE_DEFAULT_ARCH,
		.is_install = is_install,
	};
	struct inst c = { .mode = INSTALL_SHADOW };
	struct stat st;
	int r = parse(argc, argv, &o, &c);

	if (r >= 0)
		return r;
	if (geteuid() != 0 && !c.dry_run) {
		cli_error("needs root: run it as root (or with --dry-run to see what it would change)");
		return 1;
	}
	if (o.root && (r = stat(o.root, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR) < 0) {
		cli_error("--root %s: %s", o.root, r == -ENOENT ? "no such directory" : strerror(-r));
		return 1;
	}
	layout_init(&c.l, o.root, o.arch, o.wrapper);
	if (is_install && check_wrapper(c.l.wrapper_src, o.wrapper) < 0)
		return 1;
	c.files = json_object_new_array();
	c.domains = json_object_new_array();
	r = is_install ? install(&c) : uninstall(&c);
	if (c.json)
		print_json(&c, r);
	json_object_put(c.files);
	json_object_put(c.domains);
	return r < 0 ? 1 : 0;
}

int cmd_install(int argc, char **argv)
{
	return run(argc, argv, true);
}

int cmd_uninstall(int argc, char **argv)
{
	return run(argc, argv, false);
}
