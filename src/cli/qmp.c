/* QMP through `virsh qemu-monitor-command` (see qmp.h). */
#include "qmp.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "util.h"

#define VIRSH "/usr/bin/virsh"

/* One QMP command; the "return" member of the reply (owned), or NULL. */
static struct json_object *qmp(const char *domain, const char *cmd, char *err, size_t size)
{
	char *argv[] = {
		(char *)VIRSH,  (char *)"-q", (char *)"-c", (char *)"qemu:///system", (char *)"qemu-monitor-command",
		(char *)domain, (char *)cmd,  NULL
	};
	_cleanup_free_ char *out = NULL;
	struct json_object *reply, *ret = NULL;
	int status = 0;

	if (access(VIRSH, X_OK) < 0) {
		snprintf(err, size, "no %s: QMP goes through libvirt", VIRSH);
		return NULL;
	}
	if (cli_capture(argv, &out, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, size, "virsh qemu-monitor-command %s: %.*s", domain, (int)strcspn(out ? out : "", "\n"),
			 out ? out : "failed");
		return NULL;
	}
	reply = json_tokener_parse(out);
	if (reply && json_object_object_get_ex(reply, "return", &ret))
		json_object_get(ret);
	else
		snprintf(err, size, "unexpected QMP reply from %s: %.80s", domain, out);
	json_object_put(reply);
	return ret;
}

static struct json_object *qom_get(const char *domain, const char *path, const char *prop, char *err, size_t size)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"%s\",\"property\":\"%s\"}}",
		 path, prop);
	return qmp(domain, cmd, err, size);
}

static bool on_command_line(const struct vm *v, const char *id)
{
	for (size_t i = 0; i < v->args.n_devs; i++)
		if (v->args.devs[i].id && !strcmp(v->args.devs[i].id, id))
			return true;
	return false;
}

int qmp_vfio_devices(const struct vm *v, struct live_dev **out, size_t *n, char *err, size_t size)
{
	struct json_object *list;

	*out = NULL;
	*n = 0;
	if (!v->args.name) {
		snprintf(err, size, "no -name: libvirt cannot name this VM");
		return -1;
	}
	list = qmp(v->args.name, "{\"execute\":\"qom-list\",\"arguments\":{\"path\":\"/machine/peripheral\"}}", err,
		   size);
	if (!list)
		return -1;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *name, *type, *host, *clique;
		struct live_dev d = { .clique = -1 };
		char path[300];

		if (!json_object_object_get_ex(e, "name", &name) || !json_object_object_get_ex(e, "type", &type) ||
		    strncmp(json_object_get_string(type), "child<vfio-pci", 14))
			continue;
		snprintf(d.id, sizeof(d.id), "%s", json_object_get_string(name));
		snprintf(path, sizeof(path), "/machine/peripheral/%s", d.id);
		host = qom_get(v->args.name, path, "host", err, size);
		clique = qom_get(v->args.name, path, "x-nv-gpudirect-clique", err, size);
		snprintf(d.host, sizeof(d.host), "%s", host ? json_object_get_string(host) : "");
		/* QEMU reports 255 for "no clique". */
		if (clique && json_object_get_int(clique) >= 0 && json_object_get_int(clique) <= 15)
			d.clique = json_object_get_int(clique);
		d.on_command_line = on_command_line(v, d.id);
		json_object_put(host);
		json_object_put(clique);
		if (grow_array((void **)out, n, sizeof(d), &d) < 0)
			break;
	}
	json_object_put(list);
	err[0] = '\0';
	return 0;
}
