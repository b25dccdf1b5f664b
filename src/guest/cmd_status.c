/* qemu-p2p-guest status: what boot found and did at this boot, read back
 * from /run/qemu-p2p-guest/status.json (written at every boot; /run is
 * emptied at boot, so an old report never passes for this boot's). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "commands.h"
#include "rootfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p-guest status [OPTIONS]\n\n"
	       "Print what qemu-p2p-guest boot found and did at this boot: the verdict, each GPU\n"
	       "pair (cliques, what the driver grants, the data test both ways), and what it did\n"
	       "to NCCL's topology file and /etc/nccl.conf. Read from\n"
	       "/run/qemu-p2p-guest/status.json.\n\n"
	       "Options:\n"
	       "      --root DIR   root the status file lies below (default /)\n"
	       "  -j, --json       print the status file's object as it is\n"
	       "  -h, --help       show this help\n"
	       "Exit status: boot's own (0 P2P holds, 1 a pair failed or a file could not be\n"
	       "written, 2 no NVIDIA driver or GPU), or 1 when boot has not run since this boot.\n");
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *direction(struct json_object *d, char *buf, size_t size)
{
	if (!d)
		return "-";
	snprintf(buf, size, "%s/%s", str(d, "copy"), str(d, "kernel"));
	return buf;
}

static const char *clique_pair(struct json_object *p, char *buf, size_t size)
{
	struct json_object *a = get(p, "clique_a"), *b = get(p, "clique_b");

	snprintf(buf, size, "%s/%s", a ? json_object_get_string(a) : "-", b ? json_object_get_string(b) : "-");
	return buf;
}

static void print_pairs(struct json_object *pairs)
{
	char cl[16], ab[16], ba[16];

	printf("\n%-29s %-9s %-7s %-10s %-10s %s\n", "GPU pair", "cliques", "driver", "a to b", "b to a", "verdict");
	for (size_t i = 0; i < json_object_array_length(pairs); i++) {
		struct json_object *p = json_object_array_get_idx(pairs, i), *granted = get(p, "granted");

		printf("%s-%-16s %-9s %-7s %-10s %-10s %s: %s\n", str(p, "a"), str(p, "b"),
		       clique_pair(p, cl, sizeof(cl)),
		       !granted                           ? "?"
		       : json_object_get_boolean(granted) ? "P2P"
							  : "no P2P",
		       direction(get(p, "a_to_b"), ab, sizeof(ab)), direction(get(p, "b_to_a"), ba, sizeof(ba)),
		       str(p, "verdict"), str(p, "why"));
	}
}

static void print_file(const char *what, struct json_object *f)
{
	const char *error = str(f, "error");

	printf("%s%s: %s%s%s\n", what, str(f, "path"), str(f, "action"), error[0] ? ": " : "", error);
}

static void print_text(struct json_object *s)
{
	struct json_object *driver = get(s, "driver"), *test = get(s, "test"), *pairs = get(s, "pairs");

	printf("qemu-p2p-guest boot at %s: %s (exit status %s)\n%s\n", str(s, "time"), str(s, "verdict"),
	       json_object_get_string(get(s, "exit_status")), str(s, "message"));
	if (driver)
		printf("Driver: CUDA %s, entry points through %s\n", str(driver, "cuda_version"),
		       str(driver, "lookup"));
	if (test && get(test, "elapsed_ms"))
		printf("Test: %lld KiB each way per pair; driver start %.1f ms, contexts %.1f ms, pairs %.1f ms, in all "
		       "%.1f ms (limit %d s)\n",
		       (long long)json_object_get_int64(get(test, "bytes_each_way")) >> 10,
		       json_object_get_double(get(test, "init_ms")), json_object_get_double(get(test, "open_ms")),
		       json_object_get_double(get(test, "pairs_ms")), json_object_get_double(get(test, "elapsed_ms")),
		       json_object_get_int(get(test, "timeout_s")));
	if (!json_object_get_boolean(get(s, "fallback")))
		printf("Fallback: off (--no-fallback)\n");
	if (pairs && json_object_array_length(pairs))
		print_pairs(pairs);
	printf("\n");
	print_file("Topology file ", get(s, "topology_file"));
	print_file("", get(s, "nccl_conf"));
}

static int show(int root, const char *rootpath, bool json)
{
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *text = NULL;
	struct json_object *s;
	char shown[512];
	int r, rc;

	rootfs_show(rootpath, BOOT_STATUS_DIR "/" BOOT_STATUS_NAME, shown, sizeof(shown));
	if ((r = rootfs_dir(root, BOOT_STATUS_DIR, false, &dir, NULL)) < 0 ||
	    (r = read_file_at(dir, BOOT_STATUS_NAME, 1 << 22, &text, NULL)) < 0) {
		if (r == -ENOENT)
			cli_error("%s: no report: qemu-p2p-guest boot has not run since this VM started "
				  "(systemctl status qemu-p2p-guest-topology)",
				  shown);
		else
			cli_error("cannot read %s: %s", shown, err_text(r));
		return 1;
	}
	s = json_tokener_parse(text);
	if (!s || !json_object_is_type(s, json_type_object) || json_object_get_int(get(s, "version")) != 1) {
		cli_error("%s: not a status file of version 1", shown);
		json_object_put(s);
		return 1;
	}
	rc = json_object_get_int(get(s, "exit_status"));
	if (json) {
		cli_print_json(s);
		return rc;
	}
	print_text(s);
	json_object_put(s);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *rootpath = "/";
	_cleanup_close_ int root = -1;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "jh", longs, NULL)) != -1) {
		switch (c) {
		case 'r': rootpath = optarg; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("status", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("status", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(rootpath, "/", &root) < 0)
		return 1;
	return show(root, rootpath, json);
}
