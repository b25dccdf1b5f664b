/* The boot test in a child process (see datatest.h). The child writes a
 * header, then one record per pair as it finishes; each record is smaller
 * than PIPE_BUF, so it arrives whole. */
#include "datatest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peers.h"

struct header {
	int status; /* DT_DONE or DT_NO_DRIVER */
	int driver_version;
	char lookup[24];
	char msg[256];
	double init_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void send_all(int fd, const void *buf, size_t size)
{
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, (const char *)buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		done += (size_t)n;
	}
}

struct child {
	struct cuda cu;
	int *dev;               /* CUDA device of each guest GPU */
	struct proof_gpu *gpus; /* opened on first use */
	uint32_t *host;
	size_t bytes;
};

static int open_gpu(struct child *c, int i, double *ms)
{
	double t = now_ms();
	int r = c->gpus[i].ctx ? 0 : proof_open(&c->cu, c->dev[i], c->bytes, &c->gpus[i]);

	/* Half-opened is not opened: the next pair with this GPU tries again. */
	if (r < 0)
		proof_close(&c->cu, &c->gpus[i]);
	*ms += now_ms() - t;
	return r;
}

static void test_pair(struct child *c, struct dt_pair *p)
{
	double t;

	p->listed = c->dev[p->a] >= 0 && c->dev[p->b] >= 0;
	p->granted = peers_granted(&c->cu, c->dev[p->a], c->dev[p->b]);
	if (!p->granted)
		return;
	p->tested = true;
	c->cu.error[0] = '\0';
	if (open_gpu(c, p->a, &p->open_ms) < 0 || open_gpu(c, p->b, &p->open_ms) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", c->cu.error);
		return;
	}
	t = now_ms();
	if (proof_pair(&c->cu, &c->gpus[p->a], &c->gpus[p->b], c->bytes, c->host, &p->ab) < 0 ||
	    proof_pair(&c->cu, &c->gpus[p->b], &c->gpus[p->a], c->bytes, c->host, &p->ba) < 0)
		snprintf(p->error, sizeof(p->error), "%s", c->cu.error);
	p->ms = now_ms() - t;
}

static void run_child(int fd, const struct guest *g, size_t bytes)
{
	struct child c = { .dev = calloc(g->n_gpus + 1, sizeof(int)),
			   .gpus = calloc(g->n_gpus + 1, sizeof(struct proof_gpu)),
			   .host = malloc(bytes),
			   .bytes = bytes };
	struct header h = { .status = DT_DONE };
	double t = now_ms();

	if (!c.dev || !c.gpus || !c.host) {
		snprintf(h.msg, sizeof(h.msg), "out of memory");
		h.status = DT_NO_DRIVER;
	} else if (cuda_load(&c.cu, h.msg, sizeof(h.msg)) < 0 || peers_map(&c.cu, g, c.dev, h.msg, sizeof(h.msg)) < 0) {
		h.status = DT_NO_DRIVER;
	}
	h.driver_version = c.cu.driver_version;
	snprintf(h.lookup, sizeof(h.lookup), "%s", c.cu.getproc ? c.cu.getproc : "");
	h.init_ms = now_ms() - t;
	send_all(fd, &h, sizeof(h));
	if (h.status != DT_DONE)
		return;
	for (size_t i = 0; i < g->n_gpus; i++)
		for (size_t k = i + 1; k < g->n_gpus; k++) {
			struct dt_pair p = { .a = (int)i, .b = (int)k };

			test_pair(&c, &p);
			send_all(fd, &p, sizeof(p));
		}
	for (size_t i = 0; i < g->n_gpus; i++)
		proof_close(&c.cu, &c.gpus[i]);
}

/* size bytes from fd by the deadline: 0, -ETIMEDOUT, or -EPIPE when the
 * child ended first. */
static int receive(int fd, void *buf, size_t size, double deadline)
{
	size_t got = 0;

	while (got < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now_ms();
		int r = left <= 0 ? 0 : poll(&p, 1, left > 1e6 ? 1000000 : (int)left + 1);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		n = read(fd, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

/* Reaps the child without waiting long for one stuck in the driver (it
 * may not die at once even killed); returns its wait status or -1. */
static int reap(pid_t pid, bool kill_it)
{
	int st = 0;

	if (kill_it)
		kill(pid, SIGKILL);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	return -1;
}

static void died(struct datatest *t, int st)
{
	t->status = DT_DIED;
	if (st >= 0 && WIFSIGNALED(st))
		snprintf(t->msg, sizeof(t->msg), "the test process was killed by signal %d (%s) in the driver",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(t->msg, sizeof(t->msg), "the test process ended early (exit status %d)",
			 st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void collect(int fd, pid_t pid, double deadline, struct datatest *t)
{
	struct header h;
	int r = receive(fd, &h, sizeof(h), deadline);

	if (r == 0) {
		t->started = true;
		t->status = h.status;
		t->driver_version = h.driver_version;
		memcpy(t->lookup, h.lookup, sizeof(t->lookup));
		memcpy(t->msg, h.msg, sizeof(t->msg));
		t->init_ms = h.init_ms;
	}
	while (r == 0 && t->status == DT_DONE && t->n_done < t->n_pairs) {
		struct dt_pair p;

		if ((r = receive(fd, &p, sizeof(p), deadline)) == 0 && p.a == t->pairs[t->n_done].a &&
		    p.b == t->pairs[t->n_done].b)
			t->pairs[t->n_done++] = p;
		else if (r == 0)
			r = -EPROTO;
	}
	if (r == -ETIMEDOUT) {
		t->status = DT_TIMEOUT;
		reap(pid, true);
	} else if (r < 0) {
		died(t, reap(pid, false));
	} else {
		reap(pid, false);
	}
}

int datatest_run(const struct guest *g, size_t bytes, int timeout_s, struct datatest *t)
{
	double start = now_ms();
	int fds[2];
	pid_t pid;
	size_t n = 0;

	*t = (struct datatest){ .n_pairs = g->n_gpus < 2 ? 0 : g->n_gpus * (g->n_gpus - 1) / 2 };
	t->pairs = calloc(t->n_pairs + 1, sizeof(*t->pairs));
	if (!t->pairs)
		return -ENOMEM;
	for (size_t i = 0; i < g->n_gpus; i++)
		for (size_t k = i + 1; k < g->n_gpus; k++)
			t->pairs[n++] = (struct dt_pair){ .a = (int)i, .b = (int)k };
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		close(fds[0]);
		run_child(fds[1], g, bytes);
		_exit(0);
	}
	close(fds[1]);
	collect(fds[0], pid, start + timeout_s * 1e3, t);
	close(fds[0]);
	t->elapsed_ms = now_ms() - start;
	return 0;
}

void datatest_free(struct datatest *t)
{
	free(t->pairs);
	*t = (struct datatest){ 0 };
}
