/* libFuzzer harness for the wrapper's decision on an arbitrary argv.
 *
 * Input: arguments separated by NUL bytes. The host is a fixture tree
 * (QP2P_FUZZ_SYSFS) and a configuration (QP2P_FUZZ_CONFIG) in map mode with
 * current facts, so eligible GPUs really get cliques.
 *
 * Checked on every input, not just "no crash":
 *  - the output argv has the input's arguments, in order, with nothing
 *    added, removed or moved;
 *  - an argument that changed is a -device value, and it differs from the
 *    input only by the clique property: JSON parses (strictly) to the
 *    input's object plus "x-nv-gpudirect-clique": 0..15; legacy text is the
 *    input with ",x-nv-gpudirect-clique=N" appended (no comma after a
 *    trailing one). */
#include <json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "config.h"
#include "rewrite.h"
#include "sysfs.h"

static struct config cfg;
static struct rewrite_env env = { .sysfs = -1, .proc = -1 };

static void setup(void)
{
	const char *sys = getenv("QP2P_FUZZ_SYSFS"), *conf = getenv("QP2P_FUZZ_CONFIG");

	if (!sys || !conf || sysfs_open(sys, &env.sysfs) < 0) {
		fprintf(stderr, "fuzz_argv: set QP2P_FUZZ_SYSFS and QP2P_FUZZ_CONFIG (tools/fuzz.sh does)\n");
		exit(2);
	}
	config_load(conf, &cfg);
	env.real_binary = cfg.binary;
	if (!cfg.valid) {
		fprintf(stderr, "fuzz_argv: %s: %s\n", conf, cfg.error);
		exit(2);
	}
}

static struct json_object *parse_strict(const char *s)
{
	struct json_tokener *t = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(t, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(t, s, (int)strlen(s) + 1);
	if (json_tokener_get_error(t) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

/* out is in plus the clique key and nothing else. */
static void check_json(const char *in, const char *out)
{
	struct json_object *a = parse_strict(in), *b = parse_strict(out), *v;

	if (!a || !b || !json_object_is_type(b, json_type_object) || !json_object_object_get_ex(b, CLIQUE_PROP, &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int(v) < 0 || json_object_get_int(v) > 15)
		abort();
	json_object_object_del(b, CLIQUE_PROP);
	if (!json_object_equal(a, b))
		abort();
	json_object_put(a);
	json_object_put(b);
}

/* QEMU's QemuOpts rule, written independently of the wrapper's scanner:
 * ",," is an escaped comma only inside a value (after '='); after a name
 * (a short-form boolean) every comma separates. True when the text ends
 * with a separator, so nothing needs to be added before a new key. */
static bool ends_with_separator(const char *p)
{
	bool sep = false;

	while (*p) {
		sep = false;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p == '=') {
			for (p++; *p && !(*p == ',' && p[1] != ','); p += *p == ',' ? 2 : 1)
				;
		}
		if (*p == ',') {
			p++;
			sep = true;
		}
	}
	return sep;
}

/* Says which argument broke the invariant, then crashes for libFuzzer. */
static void bad(const char *in, const char *out)
{
	fprintf(stderr, "in:  [%s]\nout: [%s]\n", in, out);
	abort();
}

static void check_legacy(const char *in, const char *out)
{
	size_t n = strlen(in);
	const char *tail = out + n;
	char *end;
	long id;

	if (strncmp(in, out, n))
		bad(in, out);
	if (!ends_with_separator(in)) {
		if (*tail != ',')
			bad(in, out);
		tail++;
	}
	if (strncmp(tail, CLIQUE_PROP "=", strlen(CLIQUE_PROP) + 1))
		bad(in, out);
	id = strtol(tail + strlen(CLIQUE_PROP) + 1, &end, 10);
	if (*end || id < 0 || id > 15)
		bad(in, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[4097];
	int argc = 0;
	struct rewrite_out out = { 0 };

	if (env.sysfs < 0)
		setup();
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = (char *)"qemu-system-x86_64";
	for (size_t i = 0; i <= size && argc < 4096; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	if (rewrite_argv(&cfg, argc, argv, &env, &out) == 0) {
		if (out.argc != argc)
			abort();
		for (int i = 0; i < argc; i++) {
			if (!strcmp(out.argv[i], argv[i]))
				continue;
			/* QEMU takes --device as -device, and so does the wrapper. */
			if (i == 0 || (strcmp(argv[i - 1], "-device") && strcmp(argv[i - 1], "--device")))
				abort();
			if (argv[i][0] == '{')
				check_json(argv[i], out.argv[i]);
			else
				check_legacy(argv[i], out.argv[i]);
		}
		rewrite_out_free(&out);
	}
	free(buf);
	return 0;
}
