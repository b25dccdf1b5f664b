/* How to read a PCI function's identity at VM start, measured on the
 * running kernel's own /sys (not a fixture tree): modalias (one cached
 * attribute), the vendor and class files (two), or the first 12 or 48 bytes
 * of config space (which the kernel reads from the device, dword by dword).
 *
 *   identread [SYSFS [ROUNDS]]   prints microseconds per function, median
 *                                over every function of the tree */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void read_attr(int dir, const char *fn, const char *attr, size_t len)
{
	char path[512], buf[64];
	int fd;

	snprintf(path, sizeof(path), "bus/pci/devices/%s/%s", fn, attr);
	fd = openat(dir, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && read(fd, buf, len) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "/sys";
	int rounds = argc > 2 ? atoi(argv[2]) : 20, dir = open(root, O_RDONLY | O_DIRECTORY), n = 0;
	static const char *const way[] = { "modalias (one attribute)", "vendor + class files", "config, 12 bytes",
					   "config, 48 bytes" };
	static char names[512][256];
	static double t[4][512];
	DIR *d = fdopendir(openat(dir, "bus/pci/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *e;

	if (dir < 0 || !d) {
		perror(root);
		return 1;
	}
	while ((e = readdir(d)) && n < 512)
		if (e->d_name[0] != '.')
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	closedir(d);
	for (int w = 0; w < 4; w++) {
		for (int i = 0; i < n; i++) {
			double t0 = now_us();

			for (int r = 0; r < rounds; r++) {
				if (w == 0)
					read_attr(dir, names[i], "modalias", 64);
				else if (w == 1)
					read_attr(dir, names[i], "vendor", 64), read_attr(dir, names[i], "class", 64);
				else
					read_attr(dir, names[i], "config", w == 2 ? 12 : 48);
			}
			t[w][i] = (now_us() - t0) / rounds;
		}
		qsort(t[w], (size_t)n, sizeof(double), cmp);
		printf("%-28s %8.2f us per function (median of %d functions)\n", way[w], t[w][n / 2], n);
	}
	return 0;
}
