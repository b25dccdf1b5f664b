/* p2pbench: inside a VM, prove that GPU P2P works: peer access and its
 * attributes, bandwidth and latency with P2P off and on, and that data
 * written over P2P really arrives. Exit 0 when every pair that reports
 * peer access (and each GPU alone, the control) passes correctness, 1
 * otherwise, 2 without driver or GPU. */
#include <getopt.h>
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cliout.h"
#include "pci.h"
#include "util.h"

static void help(void)
{
	printf("Usage: p2pbench [OPTIONS]\n\n"
	       "Measure GPU-to-GPU copies with peer-to-peer access off and on, and check that\n"
	       "data written over P2P arrives in the peer GPU's memory. Needs the NVIDIA driver\n"
	       "(libcuda.so.1), not the CUDA toolkit.\n\n"
	       "Options:\n"
	       "  -s, --size BYTES     buffer size per copy (default 64M; K, M, G suffixes)\n"
	       "  -i, --iters N        copies per timed run (default 20)\n"
	       "  -r, --reps N         timed runs per figure, median reported (default 5)\n"
	       "  -d, --devices LIST   GPUs by index, e.g. 0,1,3 (default all)\n"
	       "  -j, --json           print one JSON object\n"
	       "  -h, --help           show this help\n"
	       "  -V, --version        show the version\n"
	       "Exit status: 0 every pair with peer access and every GPU alone passes, 1 one\n"
	       "fails, 2 no driver or GPU, 64 usage error. With --json, errors too end in one\n"
	       "JSON object.\n");
}

static int parse_devices(const char *s, int *idx, int *n)
{
	char *end;

	*n = 0;
	for (const char *p = s; *p; p = *end ? end + 1 : end) {
		long v = strtol(p, &end, 10);

		if (end == p || v < 0 || (*end && *end != ',') || *n == MAX_GPUS)
			return -1;
		idx[(*n)++] = (int)v;
	}
	return *n ? 0 : -1;
}

/* The driver spells bus ids its own way ("00000000:3B:00.0"); JSON and
 * reports use the one form of every qemu-p2p tool, "0000:3b:00.0". */
static void canonical_bus(char *bus, size_t size)
{
	struct pci_addr a;
	char text[PCI_ADDR_STRLEN];

	if (pci_addr_parse_sysfs(bus, &a) == 0)
		snprintf(bus, size, "%s", pci_addr_format(&a, text));
}

/* Name, bus id, what the proof needs (proof_open), events. */
static int open_gpu(struct bench *b, struct gpu *g, int index)
{
	struct cuda *cu = &b->cu;

	if (cuda_failed(cu, cu->DeviceGet(&g->p.dev, index), "cuDeviceGet") ||
	    cuda_failed(cu, cu->DeviceGetName(g->name, sizeof(g->name), g->p.dev), "cuDeviceGetName") ||
	    cuda_failed(cu, cu->DeviceGetPCIBusId(g->bus, sizeof(g->bus), g->p.dev), "cuDeviceGetPCIBusId") ||
	    proof_open(cu, g->p.dev, b->size, &g->p) < 0 ||
	    cuda_failed(cu, cu->EventCreate(&g->start, CU_EVENT_DEFAULT), "cuEventCreate") ||
	    cuda_failed(cu, cu->EventCreate(&g->stop, CU_EVENT_DEFAULT), "cuEventCreate"))
		return -1;
	canonical_bus(g->bus, sizeof(g->bus));
	return 0;
}

/* Every GPU, and who can access whom. -2: no GPU, -3: --devices names one
 * the driver lacks, -1: a failed call. */
static int setup(struct bench *b, const int *idx, int n_idx)
{
	struct cuda *cu = &b->cu;
	int count = 0;

	if (cuda_failed(cu, cu->Init(0), "cuInit") || cuda_failed(cu, cu->DeviceGetCount(&count), "cuDeviceGetCount"))
		return -2;
	if (count == 0) {
		snprintf(cu->error, sizeof(cu->error), "no GPU: the driver sees none");
		return -2;
	}
	b->n = n_idx ? n_idx : (count < MAX_GPUS ? count : MAX_GPUS);
	for (int i = 0; i < b->n; i++) {
		int want = n_idx ? idx[i] : i;

		if (want >= count) {
			snprintf(cu->error, sizeof(cu->error), "--devices: no GPU %d (the driver sees %d)", want,
				 count);
			return -3;
		}
		if (open_gpu(b, &b->g[i], want) < 0)
			return -1;
	}
	for (int i = 0; i < b->n; i++)
		for (int j = 0; j < b->n; j++) {
			b->can[i][j] = 0;
			if (i == j)
				continue;
			if (cuda_failed(cu, cu->DeviceCanAccessPeer(&b->can[i][j], b->g[i].p.dev, b->g[j].p.dev),
					"cuDeviceCanAccessPeer"))
				return -1;
			for (int a = 0; a < 4; a++)
				cu->DeviceGetP2PAttribute(&b->attr[i][j][a], a + 1, b->g[i].p.dev, b->g[j].p.dev);
		}
	return 0;
}

/* Frees only what was made: a half-built bench is torn down too. */
static void teardown(struct bench *b)
{
	struct cuda *cu = &b->cu;

	for (int i = 0; i < b->n; i++) {
		struct gpu *g = &b->g[i];

		if (!g->p.ctx)
			continue;
		cu->CtxSetCurrent(g->p.ctx);
		if (g->start)
			cu->EventDestroy(g->start);
		if (g->stop)
			cu->EventDestroy(g->stop);
		proof_close(cu, &g->p);
	}
}

/* Median over GPU pairs (the diagonal with one GPU). */
static double summary(const struct bench *b, const double m[MAX_GPUS][MAX_GPUS])
{
	double v[MAX_GPUS * MAX_GPUS];
	int n = 0;

	for (int i = 0; i < b->n; i++)
		for (int j = 0; j < b->n; j++)
			if ((i != j) == (b->n > 1))
				v[n++] = m[i][j];
	return bench_median(v, n);
}

static void matrix(const struct bench *b, const char *title, const double m[MAX_GPUS][MAX_GPUS], const char *fmt)
{
	printf("\n%s\n   D\\D", title);
	for (int j = 0; j < b->n; j++)
		printf(" %9d", j);
	printf("\n");
	for (int i = 0; i < b->n; i++) {
		printf("%6d", i);
		for (int j = 0; j < b->n; j++)
			printf(fmt, m[i][j]);
		printf("\n");
	}
}

/* "12.4" from 12040. */
static const char *cuda_version_text(int v, char *buf, size_t size)
{
	snprintf(buf, size, "%d.%d", v / 1000, v % 1000 / 10);
	return buf;
}

static bool controls_pass(const struct bench *b)
{
	for (int i = 0; i < b->n; i++)
		if (b->ok[i][i].copy != V_PASS || b->ok[i][i].kernel != V_PASS)
			return false;
	return true;
}

static bool any_peer(const struct bench *b)
{
	for (int w = 0; w < b->n; w++)
		for (int o = 0; o < b->n; o++)
			if (b->can[w][o])
				return true;
	return false;
}

static void report_text(const struct bench *b, bool pass)
{
	static const char *const metric[] = { "unidirectional bandwidth (GB/s)", "bidirectional bandwidth (GB/s)",
					      "latency (us)" };
	const double(*m[3][2])[MAX_GPUS] = { { b->uni[OFF], b->uni[ON] },
					     { b->bi[OFF], b->bi[ON] },
					     { b->lat[OFF], b->lat[ON] } };
	char v[16];

	printf("p2pbench: %d GPU%s, %zu-byte buffers, %d copies x %d runs (median)\n"
	       "Driver: CUDA %s, entry points through %s\n",
	       b->n, b->n == 1 ? "" : "s", b->size, b->iters, b->reps,
	       cuda_version_text(b->cu.driver_version, v, sizeof(v)), b->cu.getproc);
	for (int i = 0; i < b->n; i++)
		printf("GPU%d: %s, %s\n", i, b->g[i].name, b->g[i].bus);
	printf("\nPeer access (1 can access; P2P attributes rank/access/atomics/arrays)\n   D\\D");
	for (int j = 0; j < b->n; j++)
		printf(" %11d", j);
	printf("\n");
	for (int i = 0; i < b->n; i++) {
		printf("%6d", i);
		for (int j = 0; j < b->n; j++) {
			char cell[32];

			if (i == j)
				snprintf(cell, sizeof(cell), "-");
			else
				snprintf(cell, sizeof(cell), "%d (%d/%d/%d/%d)", b->can[i][j], b->attr[i][j][0],
					 b->attr[i][j][1], b->attr[i][j][2], b->attr[i][j][3]);
			printf(" %11s", cell);
		}
		printf("\n");
	}
	matrix(b, "Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)", b->uni[OFF], " %9.2f");
	matrix(b, "Unidirectional P2P=Enabled Bandwidth Matrix (GB/s)", b->uni[ON], " %9.2f");
	matrix(b, "Bidirectional P2P=Disabled Bandwidth Matrix (GB/s)", b->bi[OFF], " %9.2f");
	matrix(b, "Bidirectional P2P=Enabled Bandwidth Matrix (GB/s)", b->bi[ON], " %9.2f");
	matrix(b, "P2P=Disabled Latency Matrix (us)", b->lat[OFF], " %9.2f");
	matrix(b, "P2P=Enabled Latency Matrix (us)", b->lat[ON], " %9.2f");
	printf("\n%-34s %10s %10s %9s\n", b->n > 1 ? "Summary (median over GPU pairs)" : "Summary (local copies)",
	       "P2P off", "P2P on", "change");
	for (int k = 0; k < 3; k++) {
		double off = summary(b, m[k][0]), on = summary(b, m[k][1]);
		long change = off > 0 ? lround((on - off) / off * 100) : 0;

		printf("%-34s %10.2f %10.2f %+8ld%%\n", metric[k], off, on, change);
	}
	printf("\nCorrectness (writer -> owner: copy over P2P, kernel store through the peer mapping)\n");
	for (int w = 0; w < b->n; w++)
		for (int o = 0; o < b->n; o++)
			if (w != o)
				printf("  GPU%d -> GPU%d: %s copy %s, kernel %s\n", w, o,
				       b->can[w][o] ? "peer access," : "no peer access:",
				       proof_verdict_name(b->ok[w][o].copy), proof_verdict_name(b->ok[w][o].kernel));
	for (int i = 0; i < b->n; i++)
		printf("  GPU%d alone (the control): copy %s, kernel %s\n", i, proof_verdict_name(b->ok[i][i].copy),
		       proof_verdict_name(b->ok[i][i].kernel));
	if (!controls_pass(b))
		printf("\nFAIL: the proof fails on one GPU alone: its result says nothing of P2P\n");
	else if (b->n == 1)
		printf("\nPASS: the proof works on this GPU; one GPU, no pair to test\n");
	else if (!any_peer(b))
		printf("\nNO P2P: no pair of GPUs has peer access, nothing was written over P2P (qemu-p2p-guest "
		       "check says why)\n");
	else
		printf("\n%s\n", pass ? "PASS: every pair with peer access wrote where it should"
				      : "FAIL: a pair with peer access lost data written over P2P");
}

static struct json_object *jmatrix(const struct bench *b, const double m[MAX_GPUS][MAX_GPUS])
{
	struct json_object *rows = json_object_new_array();

	for (int i = 0; i < b->n; i++) {
		struct json_object *row = json_object_new_array();

		for (int j = 0; j < b->n; j++)
			json_object_array_add(row, json_object_new_double(m[i][j]));
		json_object_array_add(rows, row);
	}
	return rows;
}

static void report_json(const struct bench *b, bool pass)
{
	struct json_object *j = json_object_new_object(), *gpus = json_object_new_array(),
			   *pairs = json_object_new_array(), *controls = json_object_new_array(), *driver;
	char v[16];
	static const char *const names[] = { "unidirectional_gbps", "bidirectional_gbps", "latency_us" };
	const double(*m[3][2])[MAX_GPUS] = { { b->uni[OFF], b->uni[ON] },
					     { b->bi[OFF], b->bi[ON] },
					     { b->lat[OFF], b->lat[ON] } };

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)b->size));
	json_object_object_add(j, "iters", json_object_new_int(b->iters));
	json_object_object_add(j, "reps", json_object_new_int(b->reps));
	driver = json_object_new_object();
	json_object_object_add(driver, "cuda_version",
			       json_object_new_string(cuda_version_text(b->cu.driver_version, v, sizeof(v))));
	json_object_object_add(driver, "lookup", json_object_new_string(b->cu.getproc));
	json_object_object_add(j, "driver", driver);
	for (int i = 0; i < b->n; i++) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "index", json_object_new_int(i));
		json_object_object_add(g, "name", json_object_new_string(b->g[i].name));
		json_object_object_add(g, "address", json_object_new_string(b->g[i].bus));
		json_object_array_add(gpus, g);
	}
	json_object_object_add(j, "gpus", gpus);
	for (int k = 0; k < 3; k++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "p2p_off", jmatrix(b, m[k][0]));
		json_object_object_add(o, "p2p_on", jmatrix(b, m[k][1]));
		json_object_object_add(o, "summary_off", json_object_new_double(summary(b, m[k][0])));
		json_object_object_add(o, "summary_on", json_object_new_double(summary(b, m[k][1])));
		json_object_object_add(j, names[k], o);
	}
	for (int w = 0; w < b->n; w++)
		for (int o = 0; o < b->n; o++) {
			struct json_object *p, *attr;

			if (w == o)
				continue;
			p = json_object_new_object();
			attr = json_object_new_object();
			json_object_object_add(p, "writer", json_object_new_int(w));
			json_object_object_add(p, "owner", json_object_new_int(o));
			json_object_object_add(p, "peer_access", json_object_new_boolean(b->can[w][o]));
			json_object_object_add(attr, "performance_rank", json_object_new_int(b->attr[w][o][0]));
			json_object_object_add(attr, "access_supported", json_object_new_int(b->attr[w][o][1]));
			json_object_object_add(attr, "native_atomic_supported", json_object_new_int(b->attr[w][o][2]));
			json_object_object_add(attr, "cuda_array_access_supported",
					       json_object_new_int(b->attr[w][o][3]));
			json_object_object_add(p, "attributes", attr);
			json_object_object_add(p, "copy", json_object_new_string(proof_verdict_name(b->ok[w][o].copy)));
			json_object_object_add(p, "kernel",
					       json_object_new_string(proof_verdict_name(b->ok[w][o].kernel)));
			json_object_array_add(pairs, p);
		}
	json_object_object_add(j, "pairs", pairs);
	for (int i = 0; i < b->n; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "gpu", json_object_new_int(i));
		json_object_object_add(c, "copy", json_object_new_string(proof_verdict_name(b->ok[i][i].copy)));
		json_object_object_add(c, "kernel", json_object_new_string(proof_verdict_name(b->ok[i][i].kernel)));
		json_object_array_add(controls, c);
	}
	json_object_object_add(j, "controls", controls);
	json_object_object_add(j, "verdict", json_object_new_string(pass ? "PASS" : "FAIL"));
	cli_print_json(j);
}

static bool all_pass(const struct bench *b)
{
	for (int w = 0; w < b->n; w++)
		for (int o = 0; o < b->n; o++)
			if ((w == o || b->can[w][o]) && (b->ok[w][o].copy != V_PASS || b->ok[w][o].kernel != V_PASS))
				return false;
	return true;
}

/* A whole decimal number in [min, max]. */
static int parse_count(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* -1 to go on, else the exit status (0 after --help or --version). */
static int parse(int argc, char **argv, struct bench *b, int *idx, int *n_idx)
{
	static const struct option longs[] = {
		{ "size", required_argument, NULL, 's' }, { "iters", required_argument, NULL, 'i' },
		{ "reps", required_argument, NULL, 'r' }, { "devices", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },       { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },    { 0 },
	};
	int c;

	opterr = 0; /* cli_bad_option says it, in one line */
	while ((c = getopt_long(argc, argv, "s:i:r:d:jhV", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			if (proof_parse_size(optarg, &b->size) < 0)
				return cli_error("--size %s: bytes, a multiple of 4 (K, M, G suffixes), e.g. 64M",
						 optarg),
				       EXIT_USAGE;
			break;
		case 'i':
			if (parse_count(optarg, 1, 1000000, &b->iters) < 0)
				return cli_error("--iters %s: a whole number from 1 to 1000000", optarg), EXIT_USAGE;
			break;
		case 'r':
			if (parse_count(optarg, 1, 64, &b->reps) < 0)
				return cli_error("--reps %s: a whole number from 1 to 64", optarg), EXIT_USAGE;
			break;
		case 'd':
			if (parse_devices(optarg, idx, n_idx) < 0)
				return cli_error("--devices %s: GPU indexes such as 0,1,3 (at most %d)", optarg,
						 MAX_GPUS),
				       EXIT_USAGE;
			break;
		case 'j': b->json = true; break;
		case 'h': help(); return 0;
		case 'V': printf("p2pbench %s\n", QEMU_P2P_VERSION); return 0;
		default: return cli_bad_option(NULL, argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage(NULL, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int run(int argc, char **argv, struct bench *b)
{
	int idx[MAX_GPUS], n_idx = 0, r = parse(argc, argv, b, idx, &n_idx);
	char msg[256];
	bool pass;

	if (r >= 0)
		return r;
	if (cuda_load(&b->cu, msg, sizeof(msg)) < 0)
		return cli_error("%s", msg), 2;
	r = setup(b, idx, n_idx);
	if (r == 0)
		r = bench_measure(b) == 0 && bench_verify(b) == 0 ? 0 : -1;
	if (r < 0) {
		cli_error("%s", b->cu.error[0] ? b->cu.error : "setup failed");
		teardown(b);
		return r == -2 ? 2 : r == -3 ? EXIT_USAGE : 1;
	}
	pass = all_pass(b);
	if (b->json)
		report_json(b, pass);
	else
		report_text(b, pass);
	teardown(b);
	return pass ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct bench b = { .size = (size_t)64 << 20, .iters = 20, .reps = 5 };

	/* Seen before any option is parsed, so a usage error answers in JSON. */
	cli_json_begin(argc, argv, 1);
	return cli_json_end(run(argc, argv, &b));
}
