/* sysfs readers for PCI functions (see sysfs.h). */
#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ATTR_MAX 64

int sysfs_open(const char *root, int *dirfd)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*dirfd = fd;
	return 0;
}

static int attr_path(char *buf, size_t size, const struct pci_addr *a, const char *attr)
{
	char name[PCI_ADDR_STRLEN];
	int n = snprintf(buf, size, "bus/pci/devices/%s/%s", pci_addr_format(a, name), attr);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* An attribute is a regular file, never a link: anything else under a
 * sysfs root (a parameter) is refused before it is read. */
static int open_attr(int root, const struct pci_addr *a, const char *attr, int *fd)
{
	char path[PATH_MAX];
	int r = attr_path(path, sizeof(path), a, attr);

	return r < 0 ? r : open_regular_at(root, path, O_NOFOLLOW, fd, NULL);
}

/* An attribute's text, NUL-terminated: one read, which returns a sysfs
 * attribute whole (the kernel formats it at once); no allocation. */
static int read_attr(int root, const struct pci_addr *a, const char *attr, char buf[ATTR_MAX + 1])
{
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r = open_attr(root, a, attr, &fd);

	if (r < 0)
		return r;
	while ((n = read(fd, buf, ATTR_MAX)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* A whole sysfs value as a number in base, then at most a newline. */
static int read_number(int root, const struct pci_addr *a, const char *attr, int base, long long *out)
{
	char s[ATTR_MAX + 1], *end = NULL;
	long long v;
	int r = read_attr(root, a, attr, s);

	if (r < 0)
		return r;
	errno = 0;
	v = strtoll(s, &end, base);
	if (end == s || errno || (*end && *end != '\n'))
		return -EINVAL;
	*out = v;
	return 0;
}

int sysfs_read_hex(int root, const struct pci_addr *a, const char *attr, unsigned long *out)
{
	long long v;
	int r = read_number(root, a, attr, 16, &v);

	if (r == 0 && v < 0)
		return -EINVAL;
	if (r == 0)
		*out = (unsigned long)v;
	return r;
}

int sysfs_read_str(int root, const struct pci_addr *a, const char *attr, char *buf, size_t size)
{
	char s[ATTR_MAX + 1];
	int r = read_attr(root, a, attr, s);

	if (r < 0)
		return r;
	snprintf(buf, size, "%.*s", (int)strcspn(s, "\n"), s);
	return 0;
}

int sysfs_read_long(int root, const struct pci_addr *a, const char *attr, long *out)
{
	long long v;
	int r = read_number(root, a, attr, 10, &v);

	if (r == 0 && (v < LONG_MIN || v > LONG_MAX))
		return -ERANGE;
	if (r == 0)
		*out = (long)v;
	return r;
}

static int readlink_str(int dirfd, const char *path, char **out)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

int sysfs_read_link_name(int root, const struct pci_addr *a, const char *attr, char **out)
{
	_cleanup_free_ char *target = NULL;
	char path[PATH_MAX];
	const char *base;
	int r = attr_path(path, sizeof(path), a, attr);

	if (r < 0 || (r = readlink_str(root, path, &target)) < 0)
		return r;
	base = strrchr(target, '/');
	*out = strdup(base ? base + 1 : target);
	return *out ? 0 : -ENOMEM;
}

int sysfs_read_config(int root, const struct pci_addr *a, uint8_t *buf, size_t *len)
{
	_cleanup_close_ int fd = -1;
	int r = open_attr(root, a, "config", &fd);

	return r < 0 ? r : read_full(fd, buf, PCI_CONFIG_MAX, len);
}

/* The attribute files, one each: trees without modalias. */
static int read_ident_files(int root, const struct pci_addr *a, struct pci_ident *out)
{
	unsigned long v, d, sv = 0, sd = 0, c;
	int r;

	if ((r = sysfs_read_hex(root, a, "vendor", &v)) < 0 || (r = sysfs_read_hex(root, a, "device", &d)) < 0 ||
	    (r = sysfs_read_hex(root, a, "class", &c)) < 0)
		return r;
	sysfs_read_hex(root, a, "subsystem_vendor", &sv);
	sysfs_read_hex(root, a, "subsystem_device", &sd);
	*out = (struct pci_ident){ (unsigned)v, (unsigned)d, (unsigned)sv, (unsigned)sd, c };
	return 0;
}

int sysfs_read_ident(int root, const struct pci_addr *a, struct pci_ident *out)
{
	char s[ATTR_MAX + 1];
	unsigned v, d, sv, sd, bc, sc, pi;
	int n = 0, r = read_attr(root, a, "modalias", s);

	if (r == -ENOENT)
		return read_ident_files(root, a, out);
	if (r < 0)
		return r;
	if (sscanf(s, "pci:v%8Xd%8Xsv%8Xsd%8Xbc%2Xsc%2Xi%2X%n", &v, &d, &sv, &sd, &bc, &sc, &pi, &n) != 7 ||
	    (s[n] && s[n] != '\n') || v > 0xffff || d > 0xffff || sv > 0xffff || sd > 0xffff)
		return -EINVAL;
	*out = (struct pci_ident){ v, d, sv, sd, (unsigned long)bc << 16 | sc << 8 | pi };
	return 0;
}

/* Joins base (a directory relative to root) and a relative link target,
 * folding "." and ".." lexically; ".." never climbs above root. */
static int join_lexical(const char *base, const char *target, char **out)
{
	size_t cap = strlen(base) + strlen(target) + 2;
	_cleanup_free_ char *res = calloc(1, cap);
	_cleanup_free_ char *work = NULL;
	char *save = NULL;

	if (!res || asprintf(&work, "%s/%s", target[0] == '/' ? "" : base, target) < 0)
		return -ENOMEM;
	for (char *c = strtok_r(work, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *slash = strrchr(res, '/');

			*(slash ? slash : res) = '\0';
			continue;
		}
		if (res[0])
			strcat(res, "/");
		strcat(res, c);
	}
	*out = TAKE_PTR(res);
	return 0;
}

int sysfs_device_path(int root, const struct pci_addr *a, char **out)
{
	_cleanup_free_ char *target = NULL;
	char name[PCI_ADDR_STRLEN], link[64];
	int r;

	snprintf(link, sizeof(link), "bus/pci/devices/%s", pci_addr_format(a, name));
	r = readlink_str(root, link, &target);
	if (r < 0)
		return r;
	/* An absolute target (/sys/devices/...) from a capture made on a live
	 * host: strip the /sys prefix so it resolves inside root. */
	if (!strncmp(target, "/sys/", 5))
		memmove(target, target + 4, strlen(target + 4) + 1);
	return join_lexical("bus/pci/devices", target, out);
}

int sysfs_addr_from_sysfsdev(const char *path, struct pci_addr *out)
{
	const char *base = strrchr(path, '/');

	if (strstr(path, "/mdev/") || strncmp(path, "/sys/", 5))
		return -ENODEV;
	return pci_addr_parse_sysfs(base ? base + 1 : path, out);
}

int sysfs_addr_from_fd(int proc, int root, int fd, struct pci_addr *out)
{
	_cleanup_free_ char *dev = NULL, *target = NULL;
	char path[64], cls[PATH_MAX];
	const char *base;
	int r;

	snprintf(path, sizeof(path), "self/fd/%d", fd);
	r = readlink_str(proc, path, &dev);
	if (r < 0)
		return r;
	if (strncmp(dev, "/dev/vfio/devices/", 18) || strchr(dev + 18, '/') || dev[18] == '.')
		return -ENODEV;
	snprintf(cls, sizeof(cls), "class/vfio-dev/%s/device", dev + 18);
	r = readlink_str(root, cls, &target);
	if (r < 0)
		return r;
	base = strrchr(target, '/');
	return pci_addr_parse_sysfs(base ? base + 1 : target, out);
}

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_cmp(a, b);
}

/* The array grows by doubling: a host may have tens of thousands of
 * functions. */
int sysfs_list_dir(int root, const char *dir, struct pci_addr **out, size_t *n)
{
	int fd = openat(root, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ struct pci_addr *list = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct pci_addr a;

		if (pci_addr_parse_sysfs(de->d_name, &a) < 0)
			continue;
		if (count == cap) {
			struct pci_addr *bigger = realloc(list, (cap = cap ? cap * 2 : 256) * sizeof(*list));

			if (!bigger) {
				closedir(d);
				return -ENOMEM;
			}
			list = bigger;
		}
		list[count++] = a;
	}
	closedir(d);
	if (count)
		qsort(list, count, sizeof(*list), cmp_addr);
	*out = TAKE_PTR(list);
	*n = count;
	return 0;
}

int sysfs_list_functions(int root, struct pci_addr **out, size_t *n)
{
	return sysfs_list_dir(root, "bus/pci/devices", out, n);
}

int sysfs_list_bound(int root, const char *driver, struct pci_addr **out, size_t *n)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "bus/pci/drivers/%s", driver);
	return sysfs_list_dir(root, dir, out, n);
}
