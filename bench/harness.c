/* Benchmark harness: runs commands side by side, alternating, and prints
 * median and spread of wall time and the peak memory of each.
 *
 *   harness RUNS [--floor K] NAME [VAR=VALUE...] -- ARGV... [--- NAME ... -- ARGV...]...
 *
 * VAR=VALUE settings apply to that command's environment only.
 * Each command's argv may be read from a file with @FILE (one argument a
 * line). The first command is the baseline; the table shows each one's
 * added time in microseconds and its ratio against it, and with --floor K
 * the time added above command K as well (0 is the first). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	const char *name;
	char **argv;
	char **env; /* VAR=VALUE, NULL-terminated */
	double *t;      /* ms per run */
	long max_rss;   /* KiB */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char **argv_from_file(const char *path, char **prefix, int n_prefix)
{
	FILE *f = fopen(path, "r");
	char **v = calloc((size_t)n_prefix + 1, sizeof(*v)), *line = NULL;
	size_t cap = 0, n = (size_t)n_prefix;
	ssize_t len;

	if (!f || !v) {
		perror(path);
		exit(2);
	}
	memcpy(v, prefix, (size_t)n_prefix * sizeof(*v));
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		v = realloc(v, (n + 2) * sizeof(*v));
		v[n++] = strdup(line);
	}
	v[n] = NULL;
	fclose(f);
	return v;
}

/* Runs once; returns wall ms; records the child's peak RSS. */
static double run(struct cmd *c)
{
	struct rusage ru;
	int status;
	double t0 = now_ms();
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", 1);

		dup2(null, 1);
		dup2(null, 2);
		for (char **e = c->env; *e; e++)
			putenv(*e);
		execv(c->argv[0], c->argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "harness: %s failed (status %d)\n", c->name, status);
		exit(1);
	}
	if (ru.ru_maxrss > c->max_rss)
		c->max_rss = ru.ru_maxrss;
	return now_ms() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
	return sorted[(int)(p * (n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	struct cmd cmds[16];
	int n = 0, runs, floor = -1, first = 2;

	if (argc > 3 && !strcmp(argv[2], "--floor"))
		floor = atoi(argv[3]), first = 4;
	if (argc < first + 3) {
		fprintf(stderr, "usage: harness RUNS [--floor K] NAME -- ARGV... [--- NAME -- ARGV...]...\n");
		return 2;
	}
	runs = atoi(argv[1]);
	for (int i = first; i < argc && n < 16;) {
		int dash = i + 1, start, end;

		while (dash < argc && strcmp(argv[dash], "--"))
			dash++;
		start = end = dash + 1;
		while (end < argc && strcmp(argv[end], "---"))
			end++;
		cmds[n] = (struct cmd){ .name = argv[i], .t = calloc((size_t)runs, sizeof(double)) };
		cmds[n].env = calloc((size_t)(dash - i), sizeof(char *));
		memcpy(cmds[n].env, argv + i + 1, (size_t)(dash - i - 1) * sizeof(char *));
		argv[end < argc ? end : argc] = NULL;
		if (end - start >= 1 && argv[end - 1][0] == '@')
			cmds[n].argv = argv_from_file(argv[end - 1] + 1, argv + start, end - 1 - start);
		else
			cmds[n].argv = argv + start;
		n++;
		i = end + 1;
	}
	for (int k = 0; k < 3; k++) /* warm-up: page cache, dynamic loader */
		for (int c = 0; c < n; c++)
			run(&cmds[c]);
	for (int r = 0; r < runs; r++) /* alternating, so drift hits all alike */
		for (int c = 0; c < n; c++)
			cmds[c].t[r] = run(&cmds[c]);
	if (floor >= n)
		floor = -1;
	printf("%-44s %9s %11s %10s %10s %7s %9s\n", "command", "median ms", "p10-p90", "+first us",
	       floor >= 0 ? "+floor us" : "", "ratio", "peak KiB");
	for (int c = 0; c < n; c++)
		qsort(cmds[c].t, (size_t)runs, sizeof(double), cmp);
	for (int c = 0; c < n; c++) {
		double med = pct(cmds[c].t, runs, 0.5), base = pct(cmds[0].t, runs, 0.5);
		char spread[32], above[16] = "";

		snprintf(spread, sizeof(spread), "%.2f-%.2f", pct(cmds[c].t, runs, 0.1), pct(cmds[c].t, runs, 0.9));
		if (floor >= 0)
			snprintf(above, sizeof(above), "%+.0f", (med - pct(cmds[floor].t, runs, 0.5)) * 1e3);
		printf("%-44s %9.3f %11s %+10.0f %10s %7.2f %9ld\n", cmds[c].name, med, spread, (med - base) * 1e3, above,
		       med / base, cmds[c].max_rss);
	}
	printf("(%d runs each, alternating, after 3 warm-up rounds)\n", runs);
	return 0;
}
