/* NCCL's view without our file (see nccltoday.h). */
#include "nccltoday.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "rootfs.h"
#include "topo.h"
#include "util.h"

/* Where distributions and NVIDIA's packages put libnccl.so.2.X.Y and
 * nccl.h (Debian and Ubuntu's libnccl2, NVIDIA's repositories, RHEL). */
static const char *const lib_dirs[] = {
	"usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib64", "usr/lib", "usr/local/lib",
	"usr/local/cuda/lib64",     "usr/local/nccl/lib",
};
static const char *const include_dirs[] = { "usr/include", "usr/local/include", "usr/local/cuda/include",
					    "usr/local/nccl/include" };

static const char *field(const char *text, const char *key, char *buf, size_t size)
{
	const char *p = strstr(text, key);

	if (!p || (p != text && p[-1] != '\n'))
		return NULL;
	p += strcspn(p, ":");
	if (*p)
		p += 1 + strspn(p + 1, " \t");
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

enum nccl_cpu nccl_cpu_of(const char *cpuinfo, char *name, size_t size)
{
	snprintf(name, size, "unknown");
	if (field(cpuinfo, "vendor_id", name, size)) {
		if (!strcmp(name, "GenuineIntel"))
			return NCCL_CPU_INTEL;
		if (!strcmp(name, "AuthenticAMD"))
			return NCCL_CPU_AMD;
		if (!strcmp(name, "CentaurHauls") || strstr(name, "Shanghai"))
			return NCCL_CPU_ZHAOXIN;
		return NCCL_CPU_OTHER;
	}
	if (field(cpuinfo, "CPU implementer", name, size))
		return NCCL_CPU_ARM;
	return cpuinfo[0] ? NCCL_CPU_OTHER : NCCL_CPU_UNKNOWN;
}

const char *nccl_cpu_name(enum nccl_cpu c)
{
	static const char *const names[] = { "unknown", "Intel", "AMD", "Zhaoxin", "ARM", "other" };

	return names[c];
}

enum link_level nccl_p2p_level(enum nccl_range r, enum nccl_cpu c, size_t n_gpus)
{
	if (c == NCCL_CPU_UNKNOWN)
		return LINK_AUTO;
	if (r == NCCL_NEW)
		return c == NCCL_CPU_AMD && n_gpus <= 2 ? LINK_SYS : LINK_PXB;
	return c == NCCL_CPU_INTEL || c == NCCL_CPU_ARM || c == NCCL_CPU_ZHAOXIN ? LINK_PXB : LINK_SYS;
}

enum link_level nccl_guest_path(const struct guest_fn *a, const struct guest_fn *b)
{
	/* NCCL hangs each device under the CPU of its NUMA node: two nodes
	 * are SYS whatever the PCI tree says. */
	if (a->fn->numa >= 0 && b->fn->numa >= 0 && a->fn->numa != b->fn->numa)
		return LINK_SYS;
	if (!a->fn->placed || !b->fn->placed)
		return LINK_AUTO;
	return topo_link(&a->fn->node, &b->fn->node);
}

const char *nccl_code_text(int code, char *buf, size_t size)
{
	snprintf(buf, size, "%d.%d.%d", code / 10000, code / 100 % 100, code % 100);
	return buf;
}

static void add(struct nccl_release *out, size_t max, size_t *n, int code, const char *dir, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i].code == code)
			return;
	if (*n == max)
		return;
	out[*n].code = code;
	snprintf(out[*n].from, sizeof(out[*n].from), "/%s/%s", dir, name);
	(*n)++;
}

static void scan_libs(int root, const char *dir, struct nccl_release *out, size_t max, size_t *n)
{
	int fd = -1, major, minor, patch, end;
	DIR *d;
	struct dirent *ent;

	if (rootfs_dir(root, dir, false, &fd, NULL) < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((ent = readdir(d)))
		if (sscanf(ent->d_name, "libnccl.so.%d.%d.%d%n", &major, &minor, &patch, &end) == 3 &&
		    !ent->d_name[end] && major < 100 && minor < 100 && patch < 100)
			add(out, max, n, NCCL_CODE(major, minor, patch), dir, ent->d_name);
	closedir(d);
}

static int define_of(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	int v = -1;

	return p && sscanf(p + strlen(name), "%d", &v) == 1 ? v : -1;
}

static void scan_header(int root, const char *dir, struct nccl_release *out, size_t max, size_t *n)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	int major, minor, patch;

	if (rootfs_dir(root, dir, false, &fd, NULL) < 0 || read_file_at(fd, "nccl.h", 1 << 20, &text, NULL) < 0)
		return;
	major = define_of(text, "#define NCCL_MAJOR");
	minor = define_of(text, "#define NCCL_MINOR");
	patch = define_of(text, "#define NCCL_PATCH");
	if (major >= 0 && minor >= 0 && patch >= 0 && major < 100 && minor < 100 && patch < 100)
		add(out, max, n, NCCL_CODE(major, minor, patch), dir, "nccl.h");
}

size_t nccl_find_releases(int root, struct nccl_release *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(lib_dirs); i++)
		scan_libs(root, lib_dirs[i], out, max, &n);
	for (size_t i = 0; i < ARRAY_SIZE(include_dirs); i++)
		scan_header(root, include_dirs[i], out, max, &n);
	return n;
}
