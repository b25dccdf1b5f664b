/* p2pbench: inside a VM, prove that GPU P2P works: peer access and its
 * attributes, bandwidth and latency with P2P off and on, and that data
 * written over P2P really arrives. Exit 0 when every pair that reports
 * peer access passes correctness, 1 otherwise, 2 without driver or GPU. */
#include <getopt.h>
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

extern const char write_pattern_ptx[];

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
	       "Exit status: 0 all pairs with peer access pass, 1 a pair fails, 2 no driver or GPU.\n");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || v < 4 || v % 4)
		return -1;
	*out = (size_t)v;
	return 0;
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

/* Contexts, streams, events, buffers and the kernel of every GPU. */
static int setup(struct bench *b, const int *idx, int n_idx)
{
	struct cuda *cu = &b->cu;
	int count = 0;

	if (bench_failed(b, cu->Init(0), "cuInit") || bench_failed(b, cu->DeviceGetCount(&count), "cuDeviceGetCount"))
		return -2;
	if (count == 0) {
		snprintf(b->error, sizeof(b->error), "no GPU: the driver sees none");
		return -2;
	}
	b->n = n_idx ? n_idx : (count < MAX_GPUS ? count : MAX_GPUS);
	for (int i = 0; i < b->n; i++) {
		struct gpu *g = &b->g[i];
		int want = n_idx ? idx[i] : i;

		if (want >= count) {
			snprintf(b->error, sizeof(b->error), "--devices: no GPU %d (the driver sees %d)", want, count);
			return -3;
		}
		if (bench_failed(b, cu->DeviceGet(&g->dev, want), "cuDeviceGet") ||
		    bench_failed(b, cu->DeviceGetName(g->name, sizeof(g->name), g->dev), "cuDeviceGetName") ||
		    bench_failed(b, cu->DeviceGetPCIBusId(g->bus, sizeof(g->bus), g->dev), "cuDeviceGetPCIBusId") ||
		    bench_failed(b, cu->DevicePrimaryCtxRetain(&g->ctx, g->dev), "cuDevicePrimaryCtxRetain") ||
		    bench_failed(b, cu->CtxSetCurrent(g->ctx), "cuCtxSetCurrent") ||
		    bench_failed(b, cu->StreamCreate(&g->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate") ||
		    bench_failed(b, cu->EventCreate(&g->start, CU_EVENT_DEFAULT), "cuEventCreate") ||
		    bench_failed(b, cu->EventCreate(&g->stop, CU_EVENT_DEFAULT), "cuEventCreate") ||
		    bench_failed(b, cu->MemAlloc(&g->a, b->size), "cuMemAlloc") ||
		    bench_failed(b, cu->MemAlloc(&g->b, b->size), "cuMemAlloc") ||
		    bench_failed(b, cu->ModuleLoadData(&g->mod, write_pattern_ptx), "cuModuleLoadData") ||
		    bench_failed(b, cu->ModuleGetFunction(&g->kernel, g->mod, "write_pattern"), "cuModuleGetFunction"))
			return -1;
	}
	for (int i = 0; i < b->n; i++)
		for (int j = 0; j < b->n; j++) {
			b->can[i][j] = 0;
			if (i == j)
				continue;
			if (bench_failed(b, cu->DeviceCanAccessPeer(&b->can[i][j], b->g[i].dev, b->g[j].dev),
					 "cuDeviceCanAccessPeer"))
				return -1;
			for (int a = 0; a < 4; a++)
				cu->DeviceGetP2PAttribute(&b->attr[i][j][a], a + 1, b->g[i].dev, b->g[j].dev);
		}
	return 0;
}

/* Freeing only what was made: a half-built bench is torn down too. */
static void mem_free(const struct cuda *cu, CUdeviceptr p)
{
	if (p)
		cu->MemFree(p);
}

static void event_destroy(const struct cuda *cu, CUevent e)
{
	if (e)
		cu->EventDestroy(e);
}

static void teardown(struct bench *b)
{
	struct cuda *cu = &b->cu;

	for (int i = 0; i < b->n; i++) {
		struct gpu *g = &b->g[i];

		if (!g->ctx)
			continue;
		cu->CtxSetCurrent(g->ctx);
		if (g->mod)
			cu->ModuleUnload(g->mod);
		mem_free(cu, g->a);
		mem_free(cu, g->b);
		event_destroy(cu, g->start);
		event_destroy(cu, g->stop);
		if (g->stream)
			cu->StreamDestroy(g->stream);
		cu->DevicePrimaryCtxRelease(g->dev);
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

static const char *verdict_name(enum verdict v)
{
	return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "n/a";
}

static void report_text(const struct bench *b, bool pass)
{
	static const char *const metric[] = { "unidirectional bandwidth (GB/s)", "bidirectional bandwidth (GB/s)",
					      "latency (us)" };
	const double(*m[3][2])[MAX_GPUS] = { { b->uni[OFF], b->uni[ON] },
					     { b->bi[OFF], b->bi[ON] },
					     { b->lat[OFF], b->lat[ON] } };

	printf("p2pbench: %d GPU%s, %zu-byte buffers, %d copies x %d runs (median)\n", b->n, b->n == 1 ? "" : "s",
	       b->size, b->iters, b->reps);
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
				       verdict_name(b->copy_ok[w][o]), verdict_name(b->kernel_ok[w][o]));
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
			   *pairs = json_object_new_array();
	static const char *const names[] = { "unidirectional_gbps", "bidirectional_gbps", "latency_us" };
	const double(*m[3][2])[MAX_GPUS] = { { b->uni[OFF], b->uni[ON] },
					     { b->bi[OFF], b->bi[ON] },
					     { b->lat[OFF], b->lat[ON] } };

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)b->size));
	json_object_object_add(j, "iters", json_object_new_int(b->iters));
	json_object_object_add(j, "reps", json_object_new_int(b->reps));
	for (int i = 0; i < b->n; i++) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "index", json_object_new_int(i));
		json_object_object_add(g, "name", json_object_new_string(b->g[i].name));
		json_object_object_add(g, "pci_bus_id", json_object_new_string(b->g[i].bus));
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
			json_object_object_add(p, "copy", json_object_new_string(verdict_name(b->copy_ok[w][o])));
			json_object_object_add(p, "kernel", json_object_new_string(verdict_name(b->kernel_ok[w][o])));
			json_object_array_add(pairs, p);
		}
	json_object_object_add(j, "pairs", pairs);
	json_object_object_add(j, "verdict", json_object_new_string(pass ? "PASS" : "FAIL"));
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

static bool all_pass(const struct bench *b)
{
	for (int w = 0; w < b->n; w++)
		for (int o = 0; o < b->n; o++)
			if (w != o && b->can[w][o] && (b->copy_ok[w][o] != V_PASS || b->kernel_ok[w][o] != V_PASS))
				return false;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "size", required_argument, NULL, 's' }, { "iters", required_argument, NULL, 'i' },
		{ "reps", required_argument, NULL, 'r' }, { "devices", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },       { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },    { 0 },
	};
	static struct bench b = { .size = (size_t)64 << 20, .iters = 20, .reps = 5 };
	int idx[MAX_GPUS], n_idx = 0, c, r;
	bool json = false, pass;
	char msg[256];

	while ((c = getopt_long(argc, argv, "s:i:r:d:jhV", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &b.size) < 0)
				return fprintf(stderr,
					       "p2pbench: --size %s: a multiple of 4 bytes (K, M, G suffixes)\n",
					       optarg),
				       64;
			break;
		case 'i':
			if ((b.iters = atoi(optarg)) < 1)
				return fprintf(stderr, "p2pbench: --iters %s: a positive number\n", optarg), 64;
			break;
		case 'r':
			if ((b.reps = atoi(optarg)) < 1 || b.reps > 64)
				return fprintf(stderr, "p2pbench: --reps %s: 1 to 64\n", optarg), 64;
			break;
		case 'd':
			if (parse_devices(optarg, idx, &n_idx) < 0)
				return fprintf(stderr, "p2pbench: --devices %s: GPU indexes such as 0,1,3\n", optarg),
				       64;
			break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		case 'V': printf("p2pbench %s\n", QEMU_P2P_VERSION); return 0;
		default: fprintf(stderr, "Run \"p2pbench --help\" for usage.\n"); return 64;
		}
	}
	if (cuda_load(&b.cu, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "p2pbench: %s\n", msg);
		return 2;
	}
	r = setup(&b, idx, n_idx);
	if (r == 0)
		r = bench_measure(&b) == 0 && bench_verify(&b) == 0 ? 0 : -1;
	if (r < 0) {
		fprintf(stderr, "p2pbench: %s\n", b.error[0] ? b.error : "setup failed");
		teardown(&b);
		return r == -2 ? 2 : r == -3 ? 64 : 1;
	}
	pass = all_pass(&b);
	if (json)
		report_json(&b, pass);
	else
		report_text(&b, pass);
	teardown(&b);
	return pass ? 0 : 1;
}
