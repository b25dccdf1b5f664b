/* Confinement: the AppArmor rules and SELinux labels the wrapper needs to
 * run (and read its files) inside each VM's confinement (FACTS §5). */
#include "confine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "common.h"
#include "strbuf.h"

#define AA_ABSTRACTION "/etc/apparmor.d/abstractions/libvirt-qemu"
#define AA_LOCAL "/etc/apparmor.d/local/abstractions/libvirt-qemu"
#define AA_BEGIN "# BEGIN qemu-p2p (written by qemu-p2p install; removed by uninstall)"
#define AA_END "# END qemu-p2p"

/* The AppArmor lines the wrapper needs inside each VM's profile. */
static void aa_block(struct inst *c, struct strbuf *b)
{
	_cleanup_free_ char *abs = NULL;
	struct rpath at;
	char line[512];

	read_file_at(AT_FDCWD, layout_path(&c->l, AA_ABSTRACTION, &at), 1 << 20, &abs, NULL);
	sb_addf(b, "%s\n", AA_BEGIN);
	snprintf(line, sizeof(line), "  %s rmix,\n", c->wrapper_at);
	if (!abs || !strstr(abs, line))
		sb_addf(b, "%s", line);
	if (c->mode == INSTALL_DIVERT)
		sb_addf(b, "  %s.real rmix,\n", c->l.packaged);
	sb_addf(b,
		"  /etc/qemu-p2p.conf r,\n"
		"  /etc/qemu-p2p.d/ r,\n"
		"  /etc/qemu-p2p.d/host.conf r,\n"
		"  # the sysfs and proc roots the wrapper opens, then what it reads below\n"
		"  # them: identity (modalias; vendor, device, class where a tree has\n"
		"  # none), NUMA node and place of the VM's GPUs and their bridges (mode =\n"
		"  # auto), the inherited descriptors (iommufd fd=N)\n"
		"  /sys/ r,\n"
		"  @{PROC}/ r,\n"
		"  /sys/bus/pci/devices/ r,\n"
		"  /sys/devices/pci[0-9]*/**/{modalias,vendor,device,class,numa_node} r,\n"
		"  /sys/class/vfio-dev/ r,\n"
		"  owner @{PROC}/@{pid}/fd/ r,\n"
		"%s\n",
		AA_END);
}

/* text without our block (owned). */
static char *aa_strip(const char *text)
{
	const char *a = strstr(text, AA_BEGIN), *b = a ? strstr(a, AA_END) : NULL;
	char *out;

	if (!a || !b)
		return strdup(text);
	b += strlen(AA_END);
	b += *b == '\n';
	if (asprintf(&out, "%.*s%s", (int)(a - text), text, b) < 0)
		return NULL;
	return out;
}

int confine_apparmor(struct inst *c, bool add)
{
	struct rpath local, abstraction;
	const char *path = layout_path(&c->l, AA_LOCAL, &local);
	_cleanup_free_ char *old = NULL, *base = NULL;
	struct strbuf b = { 0 };
	struct err e = { { 0 } };
	int r = 0;

	if (access(layout_path(&c->l, AA_ABSTRACTION, &abstraction), F_OK) < 0)
		return 0; /* no AppArmor libvirt abstraction: nothing to allow */
	if (read_file_at(AT_FDCWD, path, 1 << 20, &old, NULL) < 0 && !(old = strdup("")))
		return -ENOMEM;
	if (!(base = aa_strip(old)))
		return -ENOMEM;
	sb_addf(&b, "%s", base);
	if (add) {
		if (b.len && b.s[b.len - 1] != '\n')
			sb_addf(&b, "\n");
		aa_block(c, &b);
	}
	if (b.s && strcmp(b.s, old) && (r = inst_mkdir(c, AA_LOCAL)) == 0) {
		inst_note(c, AA_LOCAL, add ? "AppArmor rules for the wrapper" : "AppArmor rules removed");
		if (!c->dry_run && (r = atomic_write(path, b.s, b.len, 0644, &e)) < 0)
			inst_fail(c, r, "%s", e.msg);
	}
	sb_free(&b);
	return r;
}

/* SELinux (RHEL family): the labels of packaging/selinux/qemu-p2p.fc,
 * applied with semanage and restorecon where SELinux is on. */
void confine_selinux(struct inst *c, bool add)
{
	static const char *const rules[][2] = {
		{ "qemu_exec_t", NULL }, /* the wrapper's path, filled below */
		{ "virt_etc_t", "/etc/qemu-p2p\\.conf" },
		{ "virt_etc_t", "/etc/qemu-p2p\\.d(/.*)?" },
	};
	char *probe[] = { (char *)"/usr/sbin/selinuxenabled", NULL };
	_cleanup_free_ char *out = NULL;
	int status = 1;

	if (c->l.root[0] || access(probe[0], X_OK) < 0 || cli_capture(probe, &out, &status) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return; /* no SELinux here (or an image build): nothing to label */
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const char *spec = rules[i][1] ? rules[i][1] : c->wrapper_at;
		char *argv[] = { (char *)"/usr/sbin/semanage",
				 (char *)"fcontext",
				 (char *)(add ? "-a" : "-d"),
				 (char *)"-t",
				 (char *)rules[i][0],
				 (char *)spec,
				 NULL };
		char *rc[] = { (char *)"/usr/sbin/restorecon", (char *)"-R",
			       (char *)c->wrapper_at,          (char *)"/etc/qemu-p2p.conf",
			       (char *)"/etc/qemu-p2p.d",      NULL };
		_cleanup_free_ char *log = NULL, *log2 = NULL;

		/* The base policy labels /usr/bin/qemu-system-* already. */
		if (!rules[i][1] && !strncmp(c->wrapper_at, "/usr/bin/qemu-system-", 21))
			continue;
		inst_note(c, spec, add ? "SELinux file context" : "SELinux file context removed");
		if (!c->dry_run) {
			cli_capture(argv, &log, &status);
			cli_capture(rc, &log2, &status);
		}
	}
}
