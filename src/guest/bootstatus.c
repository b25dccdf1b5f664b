/* boot's report as JSON and its status file (see boot.h). */
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "rootfs.h"

static struct json_object *clique(int id)
{
	return id >= 0 ? json_object_new_int(id) : NULL;
}

static struct json_object *direction(const struct proof_result *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "copy", json_object_new_string(proof_verdict_name(r->copy)));
	json_object_object_add(o, "kernel", json_object_new_string(proof_verdict_name(r->kernel)));
	return o;
}

static struct json_object *pair_json(const struct boot_report *r, size_t n)
{
	const struct dt_pair *p = &r->dt->pairs[n];
	const struct guest_fn *a = &r->g->gpus[p->a], *b = &r->g->gpus[p->b];
	struct json_object *o = json_object_new_object();
	char x[PCI_ADDR_STRLEN], y[PCI_ADDR_STRLEN];
	bool back = n < r->dt->n_done;

	json_object_object_add(o, "a", json_object_new_string(pci_addr_format(&a->fn->addr, x)));
	json_object_object_add(o, "b", json_object_new_string(pci_addr_format(&b->fn->addr, y)));
	json_object_object_add(o, "clique_a", clique(a->clique));
	json_object_object_add(o, "clique_b", clique(b->clique));
	json_object_object_add(o, "expected", json_object_new_boolean(a->clique >= 0 && a->clique == b->clique));
	json_object_object_add(o, "granted", back ? json_object_new_boolean(p->granted) : NULL);
	json_object_object_add(o, "tested", json_object_new_boolean(p->tested));
	json_object_object_add(o, "a_to_b", p->tested ? direction(&p->ab) : NULL);
	json_object_object_add(o, "b_to_a", p->tested ? direction(&p->ba) : NULL);
	json_object_object_add(o, "ms", p->tested ? json_object_new_double(p->ms) : NULL);
	json_object_object_add(o, "verdict", json_object_new_string(r->pairs[n].verdict));
	json_object_object_add(o, "why", json_object_new_string(r->pairs[n].why));
	return o;
}

static struct json_object *file_json(const struct boot_file *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(f->path));
	json_object_object_add(o, "action", json_object_new_string(f->action ? f->action : "unchanged"));
	if (f->error[0])
		json_object_object_add(o, "error", json_object_new_string(f->error));
	return o;
}

static struct json_object *driver_json(const struct datatest *dt)
{
	struct json_object *o;
	char v[16];

	if (!dt || !dt->driver_version)
		return NULL;
	o = json_object_new_object();
	snprintf(v, sizeof(v), "%d.%d", dt->driver_version / 1000, dt->driver_version % 1000 / 10);
	json_object_object_add(o, "cuda_version", json_object_new_string(v));
	json_object_object_add(o, "lookup", json_object_new_string(dt->lookup));
	return o;
}

static struct json_object *test_json(const struct boot_report *r)
{
	struct json_object *o = json_object_new_object();
	double open_ms = 0, pairs_ms = 0;

	for (size_t i = 0; r->dt && i < r->dt->n_done; i++) {
		open_ms += r->dt->pairs[i].open_ms;
		pairs_ms += r->dt->pairs[i].ms;
	}
	json_object_object_add(o, "bytes_each_way", json_object_new_int64((int64_t)r->bytes));
	json_object_object_add(o, "timeout_s", json_object_new_int(r->timeout_s));
	json_object_object_add(o, "init_ms", r->dt ? json_object_new_double(r->dt->init_ms) : NULL);
	json_object_object_add(o, "open_ms", r->dt ? json_object_new_double(open_ms) : NULL);
	json_object_object_add(o, "pairs_ms", r->dt ? json_object_new_double(pairs_ms) : NULL);
	json_object_object_add(o, "elapsed_ms", r->dt ? json_object_new_double(r->dt->elapsed_ms) : NULL);
	return o;
}

struct json_object *boot_status_json(const struct boot_report *r, time_t when)
{
	struct json_object *o = json_object_new_object(), *gpus = json_object_new_array(),
			   *pairs = json_object_new_array();
	char t[32], a[PCI_ADDR_STRLEN];
	struct tm tm;

	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "time", json_object_new_string(t));
	json_object_object_add(o, "verdict", json_object_new_string(r->verdict));
	json_object_object_add(o, "exit_status", json_object_new_int(r->exit_status));
	json_object_object_add(o, "message", json_object_new_string(r->message));
	json_object_object_add(o, "fallback", json_object_new_boolean(r->fallback));
	json_object_object_add(o, "driver", driver_json(r->dt));
	json_object_object_add(o, "test", test_json(r));
	for (size_t i = 0; r->g && i < r->g->n_gpus; i++) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "address",
				       json_object_new_string(pci_addr_format(&r->g->gpus[i].fn->addr, a)));
		json_object_object_add(g, "clique", clique(r->g->gpus[i].clique));
		json_object_array_add(gpus, g);
	}
	json_object_object_add(o, "gpus", gpus);
	for (size_t n = 0; r->dt && r->g && n < r->dt->n_pairs; n++)
		json_object_array_add(pairs, pair_json(r, n));
	json_object_object_add(o, "pairs", pairs);
	json_object_object_add(o, "topology_file", file_json(&r->topology));
	json_object_object_add(o, "nccl_conf", file_json(&r->nccl_conf));
	return o;
}

int boot_status_write(int root, struct json_object *status, struct err *e)
{
	_cleanup_close_ int dir = -1;
	const char *text =
		json_object_to_json_string_ext(status, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *line = NULL;
	int r = rootfs_dir(root, BOOT_STATUS_DIR, true, &dir, e);

	if (r < 0)
		return r;
	if (asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	r = rootfs_replace(dir, BOOT_STATUS_NAME, line, strlen(line), 0644, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		err_set(e, "%s", strerror(-r));
	return r;
}
