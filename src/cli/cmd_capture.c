/* qemu-p2p capture: pack what this tool reads from a host into a tarball a
 * user can attach to a bug report. Everything sits in one top-level folder,
 * qemu-p2p-capture-HOST-DATE/, with relative paths and relative links only,
 * so unpacking it anywhere (even in / as root) touches nothing but that
 * folder; its sys/ works as --sysfs and its etc/qemu-p2p.conf as --config
 * for every command. Collected in a private staging directory, then packed
 * by tar(1); the output appears only when complete. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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
	       "tarball for a bug report. It holds one folder, qemu-p2p-capture-HOST-DATE/,\n"
	       "with relative paths only. The configuration is loaded as the wrapper loads\n"
	       "it; a rejected one is captured as it is and named in the output.\n\n"
	       "Unpack and use it (as root, so that --config accepts the root-owned files):\n"
	       "  tar xzf qemu-p2p-capture-HOST-DATE.tar.gz\n"
	       "  qemu-p2p topo --sysfs qemu-p2p-capture-HOST-DATE/sys\n"
	       "  qemu-p2p plan --sysfs qemu-p2p-capture-HOST-DATE/sys \\\n"
	       "                -c qemu-p2p-capture-HOST-DATE/etc/qemu-p2p.conf\n\n"
	       "Options:\n"
	       "  -o, --output FILE  the tarball (default: qemu-p2p-capture-HOST-DATE.tar.gz\n"
	       "                     here, or in FILE when it is a directory); its directory\n"
	       "                     must exist: none is created\n"
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
	char *stage; /* the top-level folder, inside a private staging directory */
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
 * climb back to sys/: links stay inside the folder wherever it is unpacked. */
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

/* qemu-p2p-capture-HOST-DATE: the folder's name and the default output's. */
static void folder_name(char *out, size_t size)
{
	char host[65] = "";
	time_t now = time(NULL);
	struct tm tm;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "host");
	/* A name that is one path component, whatever the host is called. */
	for (char *p = host; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p) ||
		    (p == host && *p == '.'))
			*p = '_';
	gmtime_r(&now, &tm);
	snprintf(out, size, "qemu-p2p-capture-%s-%04d%02d%02d-%02d%02d%02d", host, tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The tarball's path: -o as given, or NAME.tar.gz here or in the directory
 * -o names. Its directory must exist and be writable: said and -errno if
 * not, before anything is collected. Owned. */
static int output_path(const char *opt, const char *name, char **out)
{
	_cleanup_free_ char *path = NULL, *dir = NULL;
	const char *slash;
	struct stat st;
	int r = 0;

	if (opt && !(stat(opt, &st) == 0 && S_ISDIR(st.st_mode)))
		path = strdup(opt);
	else if (asprintf(&path, "%s%s%s.tar.gz", opt ? opt : "", opt ? "/" : "", name) < 0)
		path = NULL;
	slash = path ? strrchr(path, '/') : NULL;
	if (!path || !(dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".")))
		return -ENOMEM;
	if (stat(dir, &st) < 0 || (S_ISDIR(st.st_mode) && access(dir, W_OK) < 0))
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		cli_error("-o %s: %s: %s; create it or choose another place (nothing was created)", path, dir,
			  r == -ENOENT    ? "no such directory"
			  : r == -ENOTDIR ? "not a directory"
					  : strerror(-r));
		return r;
	}
	*out = TAKE_PTR(path);
	return 0;
}

/* tar -C BASE NAME: one top-level folder, relative member names. */
static int pack(const char *base, const char *name, const char *out)
{
	_cleanup_free_ char *tmp = NULL, *log = NULL;
	char *argv[] = { (char *)"/bin/tar", (char *)"-C", (char *)base, (char *)"-czf", NULL, (char *)name, NULL };
	int status = 0, r;

	if (asprintf(&tmp, "%s.tmp", out) < 0)
		return -ENOMEM;
	argv[4] = tmp;
	r = cli_capture(argv, &log, &status);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		const char *why = r < 0 ? strerror(-r) : log ? log : "";

		cli_error("%s: tar failed: %.*s", out, (int)strcspn(why, "\n"), why);
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, out) < 0) {
		r = -errno;
		cli_error("%s: %s", out, strerror(-r));
		unlink(tmp);
		return r;
	}
	return 0;
}

static int run(struct capture *c, const struct config *cfg, const char *base, const char *name, const char *out)
{
	_cleanup_free_ struct pci_addr *fns = NULL;
	size_t n = 0;
	int r = sysfs_list_functions(c->sysfs, &fns, &n);

	if (r < 0) {
		cli_error("cannot list PCI functions: %s", strerror(-r));
		return r;
	}
	mkdirs(c->stage, "sys/bus/pci/devices");
	mkdirs(c->stage, "sys/kernel/iommu_groups");
	sb_addf(&c->manifest, "qemu-p2p capture %s, as uid %u, %zu PCI functions\n", QEMU_P2P_VERSION,
		(unsigned)geteuid(), n);
	if (!cfg->valid)
		sb_addf(&c->manifest, "configuration rejected: %s\n", cfg->error);
	for (size_t i = 0; i < n; i++)
		capture_fn(c, &fns[i]);
	capture_host(c, cfg);
	put(c->stage, "MANIFEST", c->manifest.s, c->manifest.len);
	if ((r = pack(base, name, out)) < 0)
		return r;
	printf("wrote %s: %s/ (%zu PCI functions%s)\n", out, name, n,
	       geteuid() ? "; config space beyond 64 bytes needs root" : "");
	if (!cfg->valid)
		printf("configuration rejected by the wrapper: %s (captured as it is)\n", cfg->error);
	return 0;
}

int cmd_capture(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' }, { "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },  { "proc", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *opt_out = NULL, *sysroot = NULL, *procroot = NULL, *conf = NULL;
	_cleanup_free_ char *out = NULL;
	struct capture c = { .sysfs = -1, .proc = -1 };
	struct config cfg = { 0 };
	char tmpl[] = "/tmp/qemu-p2p-capture.XXXXXX", name[128];
	int ch, r = -1;

	while ((ch = getopt_long(argc, argv, "o:c:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'o': opt_out = optarg; break;
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("capture", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("capture", "unexpected argument '%s'", argv[optind]);
	folder_name(name, sizeof(name));
	if (output_path(opt_out, name, &out) < 0 || cli_config_load(conf, &cfg) < 0)
		goto done;
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &c.sysfs) < 0 || cli_open_root(procroot, "/proc", &c.proc) < 0)
		goto done;
	if (!mkdtemp(tmpl)) {
		cli_error("%s: cannot create a staging directory: %s", tmpl, strerror(errno));
		goto done;
	}
	if (asprintf(&c.stage, "%s/%s", tmpl, name) < 0)
		c.stage = NULL;
	if (!c.stage || mkdir(c.stage, 0755) < 0)
		cli_error("%s/%s: cannot create the folder: %s", tmpl, name, strerror(c.stage ? errno : ENOMEM));
	else
		r = run(&c, &cfg, tmpl, name, out);
	{
		char *argv_rm[] = { (char *)"/bin/rm", (char *)"-rf", tmpl, NULL };
		_cleanup_free_ char *log = NULL;
		int status;

		cli_capture(argv_rm, &log, &status);
	}
done:
	config_free(&cfg);
	sb_free(&c.manifest);
	free(c.stage);
	if (c.sysfs >= 0)
		close(c.sysfs);
	if (c.proc >= 0)
		close(c.proc);
	return r < 0 ? 1 : 0;
}
