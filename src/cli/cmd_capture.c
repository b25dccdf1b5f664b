/* qemu-p2p capture: pack what this tool reads from a host into a tarball a
 * user can attach to a bug report. Unpacked, DIR/sys works as --sysfs for
 * every command. Collected in a private staging directory, then packed by
 * tar(1); the output appears only when complete. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "common.h"
#include "resolve.h"
#include "strbuf.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p capture [OPTIONS]\n\n"
	       "Pack this host's PCI tree as qemu-p2p reads it (links and small attribute\n"
	       "files; config space whole when run as root), the CPU vendor, the kernel\n"
	       "command line, the real QEMU's version and both configuration files into a\n"
	       "tarball for a bug report. `tar xzf` it and pass DIR/sys as --sysfs.\n\n"
	       "Options:\n"
	       "  -o, --output FILE  the tarball (default qemu-p2p-capture.tar.gz)\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "      --proc DIR     proc root (default /proc)\n"
	       "  -h, --help         show this help\n");
}

static const char *const attrs[] = {
	"vendor",           "device",           "class",    "numa_node",          "resource",
	"subsystem_vendor", "subsystem_device", "revision", "current_link_speed", "current_link_width",
	"modalias"
};

struct capture {
	char *stage; /* staging directory, absolute */
	int sysfs, proc;
	struct strbuf manifest;
};

/* mkdir -p of stage/rel. */
static int mkdirs(const char *stage, const char *rel)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", stage, rel) < 0)
		return -ENOMEM;
	return mkdir_parents(p);
}

static int put(const char *stage, const char *rel, const char *data, size_t len)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&p, "%s/%s", stage, rel) < 0)
		return -ENOMEM;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return write(fd, data, len) == (ssize_t)len ? 0 : -EIO;
}

/* A symlink stage/sys/... -> target (relative to sys/), with ../ enough to
 * climb back to sys/. */
static int link_up(const char *stage, const char *rel, const char *target)
{
	struct strbuf t = { 0 };
	_cleanup_free_ char *p = NULL;
	int r;

	for (const char *s = strchr(strchr(rel, '/') + 1, '/'); s; s = strchr(s + 1, '/'))
		sb_addf(&t, "../");
	sb_addf(&t, "%s", target);
	if (asprintf(&p, "%s/%s", stage, rel) < 0 || t.oom) {
		sb_free(&t);
		return -ENOMEM;
	}
	r = symlink(t.s, p) < 0 && errno != EEXIST ? -errno : 0;
	sb_free(&t);
	return r;
}

static void copy_attr(struct capture *c, const char *dir, const char *name, size_t max)
{
	_cleanup_free_ char *src = NULL, *dst = NULL, *data = NULL;
	size_t len = 0;

	if (asprintf(&src, "%s/%s", dir, name) < 0 || asprintf(&dst, "sys/%s/%s", dir, name) < 0)
		return;
	if (read_file_at(c->sysfs, src, max, &data, &len) == 0)
		put(c->stage, dst, data, len);
}

/* One function: its directory chain, attributes, config space, links. */
static int capture_fn(struct capture *c, const struct pci_addr *a)
{
	_cleanup_free_ char *path = NULL, *drv = NULL, *grp = NULL, *rel = NULL;
	char name[PCI_ADDR_STRLEN];
	uint8_t cfg[PCI_CONFIG_MAX];
	size_t len = 0;
	int r = sysfs_device_path(c->sysfs, a, &path);

	pci_addr_format(a, name);
	if (r < 0 || asprintf(&rel, "sys/%s", path) < 0 || (r = mkdirs(c->stage, rel)) < 0)
		return r < 0 ? r : -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++)
		copy_attr(c, path, attrs[i], 4096);
	if (sysfs_read_config(c->sysfs, a, cfg, &len) == 0) {
		_cleanup_free_ char *dst = NULL;

		if (asprintf(&dst, "%s/config", rel) > 0)
			put(c->stage, dst, (const char *)cfg, len);
		sb_addf(&c->manifest, "config %s %zu bytes\n", name, len);
	}
	{
		_cleanup_free_ char *l = NULL, *t = NULL;

		if (asprintf(&l, "sys/bus/pci/devices/%s", name) > 0 && asprintf(&t, "%s", rel + 4) > 0)
			link_up(c->stage, l, t);
	}
	if (sysfs_read_link_name(c->sysfs, a, "driver", &drv) == 0) {
		_cleanup_free_ char *d = NULL, *l = NULL, *t = NULL;

		if (asprintf(&d, "sys/bus/pci/drivers/%s", drv) > 0 && mkdirs(c->stage, d) == 0 &&
		    asprintf(&l, "%s/driver", rel) > 0 && asprintf(&t, "bus/pci/drivers/%s", drv) > 0)
			link_up(c->stage, l, t);
	}
	if (sysfs_read_link_name(c->sysfs, a, "iommu_group", &grp) == 0) {
		_cleanup_free_ char *d = NULL, *l = NULL, *t = NULL, *back = NULL;

		if (asprintf(&d, "sys/kernel/iommu_groups/%s/devices", grp) > 0 && mkdirs(c->stage, d) == 0 &&
		    asprintf(&l, "%s/iommu_group", rel) > 0 && asprintf(&t, "kernel/iommu_groups/%s", grp) > 0 &&
		    asprintf(&back, "%s/%s", d, name) > 0) {
			link_up(c->stage, l, t);
			link_up(c->stage, back, rel + 4);
		}
	}
	return 0;
}

static void capture_host(struct capture *c, const struct config *cfg)
{
	_cleanup_free_ char *cpu = NULL, *cmdline = NULL, *real = NULL, *ver = NULL;
	struct err e = { { 0 } };

	mkdirs(c->stage, "proc");
	mkdirs(c->stage, "etc/qemu-p2p.d");
	if (read_file_at(c->proc, "cpuinfo", 1 << 22, &cpu, NULL) == 0) {
		char *v = strstr(cpu, "vendor_id");
		size_t n = v ? strcspn(v, "\n") + 1 : 0;

		put(c->stage, "proc/cpuinfo", v ? v : "", n); /* the vendor line only */
	}
	if (read_file_at(c->proc, "cmdline", 4096, &cmdline, NULL) == 0)
		put(c->stage, "proc/cmdline", cmdline, strlen(cmdline));
	if (cli_real_qemu(cfg, RESOLVE_DEFAULT_ARCH, &real, &e) == 0) {
		char *argv[] = { real, (char *)"-version", NULL };
		int status;

		if (cli_capture(argv, &ver, &status) == 0)
			put(c->stage, "qemu-version.txt", ver, strlen(ver));
	}
	for (int i = 0; i < 2; i++) {
		const struct conf_file *f = i ? &cfg->host : &cfg->op;
		_cleanup_free_ char *text = NULL;

		if (f->path && read_file_at(AT_FDCWD, f->path, 1 << 20, &text, NULL) == 0)
			put(c->stage, i ? "etc/qemu-p2p.d/host.conf" : "etc/qemu-p2p.conf", text, strlen(text));
	}
}

static int pack(const char *stage, const char *out)
{
	_cleanup_free_ char *tmp = NULL, *log = NULL;
	char *argv[] = { (char *)"/bin/tar", (char *)"-C", (char *)stage, (char *)"-czf", NULL, (char *)".", NULL };
	int status = 0, r;

	if (asprintf(&tmp, "%s.tmp", out) < 0)
		return -ENOMEM;
	argv[4] = tmp;
	r = cli_capture(argv, &log, &status);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "qemu-p2p capture: tar failed: %s\n", r < 0 ? strerror(-r) : log ? log : "");
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, out) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

static int run(struct capture *c, const struct config *cfg, const char *out)
{
	_cleanup_free_ struct pci_addr *fns = NULL;
	size_t n = 0;
	int r = sysfs_list_functions(c->sysfs, &fns, &n);

	if (r < 0) {
		fprintf(stderr, "qemu-p2p capture: cannot list PCI functions: %s\n", strerror(-r));
		return r;
	}
	mkdirs(c->stage, "sys/bus/pci/devices");
	mkdirs(c->stage, "sys/kernel/iommu_groups");
	sb_addf(&c->manifest, "qemu-p2p capture %s, as uid %u, %zu PCI functions\n", QEMU_P2P_VERSION,
		(unsigned)geteuid(), n);
	for (size_t i = 0; i < n; i++)
		capture_fn(c, &fns[i]);
	capture_host(c, cfg);
	put(c->stage, "MANIFEST", c->manifest.s, c->manifest.len);
	if ((r = pack(c->stage, out)) == 0)
		printf("wrote %s (%zu PCI functions%s)\n", out, n,
		       geteuid() ? "; config space beyond 64 bytes needs root" : "");
	return r;
}

int cmd_capture(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' }, { "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },  { "proc", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *out = "qemu-p2p-capture.tar.gz", *sysroot = NULL, *procroot = NULL, *conf = NULL;
	struct capture c = { 0 };
	struct config cfg = { 0 };
	char tmpl[] = "/tmp/qemu-p2p-capture.XXXXXX";
	int ch, r;

	while ((ch = getopt_long(argc, argv, "o:c:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("capture", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("capture", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &c.sysfs) < 0 || cli_open_root(procroot, "/proc", &c.proc) < 0)
		return 1;
	if (!(c.stage = mkdtemp(tmpl))) {
		fprintf(stderr, "qemu-p2p capture: cannot create a staging directory: %s\n", strerror(errno));
		return 1;
	}
	r = cli_config_load(conf, &cfg);
	if (r == 0)
		r = run(&c, &cfg, out);
	{
		char *argv_rm[] = { (char *)"/bin/rm", (char *)"-rf", c.stage, NULL };
		_cleanup_free_ char *log = NULL;
		int status;

		cli_capture(argv_rm, &log, &status);
	}
	config_free(&cfg);
	sb_free(&c.manifest);
	close(c.sysfs);
	close(c.proc);
	return r < 0 ? 1 : 0;
}
