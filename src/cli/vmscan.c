/* /proc/PID/cmdline of QEMU processes (see vmscan.h). */
#include "vmscan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "sysfs.h"
#include "util.h"

static bool is_qemu(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return !strncmp(base, "qemu-system-", 12) || !strcmp(base, "qemu-kvm") || !strcmp(base, "kvm");
}

/* -cpu host,kvm=off (libvirt's <hidden state='on'/>). */
static bool hides_kvm(char **argv, int argc)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-cpu") && strstr(argv[i + 1], "kvm=off"))
			return true;
	return false;
}

/* Proxmox runs /usr/bin/kvm with `-id VMID` (an option of its QEMU). */
static long proxmox_vmid(char **argv, int argc)
{
	const char *base = strrchr(argv[0], '/');
	char *end = NULL;

	if (strcmp(base ? base + 1 : argv[0], "kvm"))
		return -1;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "-id")) {
			long id = strtol(argv[i + 1], &end, 10);

			return *argv[i + 1] && !*end && id >= 0 ? id : -1;
		}
	}
	return -1;
}

static int split_cmdline(const char *buf, size_t len, struct vm *v)
{
	size_t n = 0;

	/* NUL-separated; read_file_at NUL-terminates the buffer. */
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		char *s = strdup(buf + i);

		if (!s || grow_array((void **)&v->argv, &n, sizeof(s), &s) < 0)
			return -ENOMEM;
	}
	v->argc = (int)n;
	return 0;
}

static void addresses(struct vm *v)
{
	v->addr = calloc(v->args.n_devs + 1, sizeof(*v->addr));
	v->addr_known = calloc(v->args.n_devs + 1, sizeof(*v->addr_known));
	for (size_t i = 0; v->addr && v->addr_known && i < v->args.n_devs; i++) {
		const struct vfio_dev *d = &v->args.devs[i];

		if (d->source == SRC_HOST)
			v->addr_known[i] = pci_addr_parse_qemu(d->source_value, &v->addr[i]) == 0;
		else if (d->source == SRC_SYSFSDEV)
			v->addr_known[i] = sysfs_addr_from_sysfsdev(d->source_value, &v->addr[i]) == 0;
	}
}

static int read_vm(int proc, const char *pid, struct vm *v)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len = 0;

	*v = (struct vm){ .pid = strtol(pid, NULL, 10) };
	if (asprintf(&path, "%s/cmdline", pid) < 0)
		return -ENOMEM;
	if (read_file_at(proc, path, 1 << 22, &buf, &len) < 0 || len == 0 || !is_qemu(buf))
		return -ENOENT;
	if (split_cmdline(buf, len, v) < 0 || argv_scan(v->argc, v->argv, &v->args) < 0)
		return -ENOMEM;
	v->kvm_hidden = hides_kvm(v->argv, v->argc);
	v->vmid = proxmox_vmid(v->argv, v->argc);
	addresses(v);
	return 0;
}

int vmscan(int proc, struct vm **out, size_t *n)
{
	int fd = openat(proc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		struct vm v;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (read_vm(proc, e->d_name, &v) == 0 && grow_array((void **)out, n, sizeof(v), &v) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	return 0;
}

void vmscan_free(struct vm *vms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < vms[i].argc; k++)
			free(vms[i].argv[k]);
		free(vms[i].argv);
		vm_args_free(&vms[i].args);
		free(vms[i].addr);
		free(vms[i].addr_known);
	}
	free(vms);
}

const char *vm_title(const struct vm *v, char *buf, size_t size)
{
	const char *name = v->args.name ? v->args.name : "(no -name)";

	if (v->vmid >= 0)
		snprintf(buf, size, "%s (Proxmox VM %ld)", name, v->vmid);
	else
		snprintf(buf, size, "%s", name);
	return buf;
}
