/* QEMU command-line scanning and the clique splice (see argv.h).
 *
 * JSON `-device` (QEMU treats an argument starting with '{' as JSON): json-c
 * only validates and locates values. The property is spliced into the
 * original text before the final '}', because re-serialising would change
 * bytes ('/' becomes '\/'), collapse duplicate keys and cap nesting. QEMU
 * rejects duplicate keys, which json-c silently merges, so we count the keys
 * in the text and in the parsed tree.
 *
 * Legacy `-device driver,key=value,...` follows QemuOpts: the first element
 * without '=' is the driver, ",," is a literal comma, a bare key means "on",
 * the last occurrence of a key wins and numbers are read with base 0. */
#include "argv.h"

#include <errno.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

static bool is_opt(const char *arg, const char *name)
{
	if (arg[0] != '-')
		return false;
	arg += arg[1] == '-' ? 2 : 1;
	return !strcmp(arg, name);
}

static bool is_vfio_driver(const char *d)
{
	return d && (!strcmp(d, "vfio-pci") || !strcmp(d, "vfio-pci-nohotplug"));
}

/* Number as QEMU's string visitor reads it (base 0, whole string). */
static long parse_num0(const char *s, long max)
{
	char *end = NULL;
	unsigned long v;

	if (!s || !s[0] || s[0] == '-')
		return -2;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (*end || errno || v > (unsigned long)max)
		return -2;
	return (long)v;
}

/* ---- legacy syntax ---- */

/* Reads one QemuOpts value starting at p into a new string (",," -> ","),
 * and returns the position after it (at the separating ',' or NUL). */
static const char *opt_value(const char *p, char **out)
{
	size_t n = 0;
	char *v = malloc(strlen(p) + 1);

	if (!v)
		return NULL;
	while (*p) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		v[n++] = *p++;
	}
	v[n] = '\0';
	*out = v;
	return p;
}

struct kv {
	char *key, *value;
};

static void kv_free(struct kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

/* Splits like QEMU's opts_do_parse; a first element without '=' is the
 * value of `implied` ("driver" for -device, "type" for -machine). */
static int legacy_split(const char *text, const char *implied, struct kv **out, size_t *n, bool *trailing_comma)
{
	struct kv *items = NULL;
	size_t count = 0;
	const char *p = text;
	bool first = true;

	*trailing_comma = false;
	while (*p) {
		struct kv item = { 0 };
		size_t len = strcspn(p, "=,");

		if (p[len] == '=') {
			item.key = strndup(p, len);
			p = opt_value(p + len + 1, &item.value);
		} else if (first) {
			item.key = strdup(implied);
			p = opt_value(p, &item.value);
		} else {
			item.key = strndup(p, len);
			item.value = strdup("on");
			p += len;
		}
		if (!item.key || !item.value || !p || grow_array((void **)&items, &count, sizeof(item), &item) < 0) {
			free(item.key);
			free(item.value);
			kv_free(items, count);
			return -ENOMEM;
		}
		first = false;
		if (*p == ',') {
			p++;
			*trailing_comma = !*p;
		}
	}
	*out = items;
	*n = count;
	return 0;
}

static const char *kv_last(const struct kv *v, size_t n, const char *key)
{
	for (size_t i = n; i-- > 0;)
		if (!strcmp(v[i].key, key))
			return v[i].value;
	return NULL;
}

/* The device QEMU opens: an iommufd descriptor, else sysfsdev, else host
 * (vfio_pci_realize derives sysfsdev from host only when neither is set). */
static int fill_source(struct vfio_dev *d, const char *host, const char *sysfsdev, const char *fd)
{
	const char *value = fd ? fd : sysfsdev ? sysfsdev : host;

	d->source = fd ? SRC_FD : sysfsdev ? SRC_SYSFSDEV : host ? SRC_HOST : SRC_NONE;
	if (value && !(d->source_value = strdup(value)))
		return -ENOMEM;
	return 0;
}

/* -1 when key is absent, else the value read as QEMU reads numbers. */
static long kv_num(const struct kv *v, size_t n, const char *key, long max)
{
	const char *s = kv_last(v, n, key);

	return s ? parse_num0(s, max) : -1;
}

/* 1 when it is a vfio device (filled), 0 when not, -ENOMEM. */
static int legacy_device(const char *text, struct vfio_dev *d)
{
	struct kv *v = NULL;
	size_t n = 0;
	int r = legacy_split(text, "driver", &v, &n, &d->trailing_comma);

	if (r < 0)
		return r;
	if (!is_vfio_driver(kv_last(v, n, "driver"))) {
		kv_free(v, n);
		return 0;
	}
	d->syntax = SYNTAX_LEGACY;
	d->id = xstrdup(kv_last(v, n, "id"));
	d->vendor = kv_num(v, n, "x-pci-vendor-id", 0xffff);
	d->class_code = kv_num(v, n, "x-pci-class-code", 0xffffff);
	d->clique = (int)kv_num(v, n, CLIQUE_PROP, CLIQUE_MAX);
	r = fill_source(d, kv_last(v, n, "host"), kv_last(v, n, "sysfsdev"), kv_last(v, n, "fd"));
	if (r == 0 && kv_last(v, n, "id") && !d->id)
		r = -ENOMEM;
	kv_free(v, n);
	return r < 0 ? r : 1;
}

/* ---- JSON syntax ---- */

/* Keys written in the text, at every depth (text already known valid). */
static size_t text_keys(const char *s)
{
	size_t keys = 0;

	for (; *s; s++) {
		if (*s != '"')
			continue;
		for (s++; *s && *s != '"'; s++)
			if (*s == '\\' && s[1])
				s++;
		if (!*s)
			break;
		const char *t = s + 1;

		t += strspn(t, " \t\r\n");
		if (*t == ':')
			keys++;
	}
	return keys;
}

static size_t tree_keys(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			n += 1 + tree_keys(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += tree_keys(json_object_array_get_idx(o, i));
	}
	return n;
}

/* The parsed object, or NULL with *why set. Owned result. One tokener
 * serves every -device of a command line (a->json_tok). */
static struct json_object *json_parse_device(struct vm_args *a, const char *text, const char **why)
{
	size_t len = strlen(text);
	struct json_tokener *tok = a->json_tok ? a->json_tok : (a->json_tok = json_tokener_new());
	struct json_object *o;
	size_t end;

	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_reset(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		*why = "malformed JSON";
	} else if (text[end + strspn(text + end, " \t\r\n")]) {
		*why = "text after the JSON object";
	} else if (!json_object_is_type(o, json_type_object)) {
		*why = "JSON that is not an object";
	} else if (text_keys(text) != tree_keys(o)) {
		*why = "a duplicate key in the JSON object";
	} else {
		*why = NULL;
	}
	if (*why) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* -1 absent, the value when an integer in 0..max, else -2. */
static long json_int(struct json_object *o, const char *key, long max)
{
	struct json_object *v = NULL;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	if (!json_object_is_type(v, json_type_int))
		return -2;
	n = json_object_get_int64(v);
	return n >= 0 && n <= max ? (long)n : -2;
}

/* fd may be written as "23" (libvirt) or 23. */
static const char *json_fd(struct json_object *o, char *buf, size_t size)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, "fd", &v))
		return NULL;
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, size, "%lld", (long long)json_object_get_int64(v));
		return buf;
	}
	return json_str(o, "fd");
}

/* 1 vfio device filled, 0 not one, -EINVAL unreadable (why set), -ENOMEM. */
static int json_device(struct vm_args *a, const char *text, struct vfio_dev *d, const char **why)
{
	struct json_object *o = json_parse_device(a, text, why);
	char fdbuf[24];
	int r;

	if (!o)
		return strcmp(*why, "out of memory") ? -EINVAL : -ENOMEM;
	if (!is_vfio_driver(json_str(o, "driver"))) {
		json_object_put(o);
		return 0;
	}
	d->syntax = SYNTAX_JSON;
	d->id = xstrdup(json_str(o, "id"));
	d->vendor = json_int(o, "x-pci-vendor-id", 0xffff);
	d->class_code = json_int(o, "x-pci-class-code", 0xffffff);
	d->clique = (int)json_int(o, CLIQUE_PROP, CLIQUE_MAX);
	r = fill_source(d, json_str(o, "host"), json_str(o, "sysfsdev"), json_fd(o, fdbuf, sizeof(fdbuf)));
	if (r == 0 && json_str(o, "id") && !d->id)
		r = -ENOMEM;
	json_object_put(o);
	return r < 0 ? r : 1;
}

/* ---- the whole command line ---- */

#define DEV_INIT(i)                                                       \
	{                                                                 \
		.argi = (i), .vendor = -1, .class_code = -1, .clique = -1 \
	}

static void dev_free(struct vfio_dev *d)
{
	free(d->id);
	free(d->source_value);
	free(d->sets);
}

static int add_bad(struct vm_args *a, int argi, const char *why)
{
	struct bad_dev b = { argi, why };

	return grow_array((void **)&a->bad, &a->n_bad, sizeof(b), &b);
}

static bool is_help(const char *v)
{
	return v && (!strcmp(v, "help") || !strcmp(v, "?"));
}

/* QemuOpts text asking for help: the implied first value is "help" or "?"
 * (`-device help`), or a key is (`-device vfio-pci,help`). */
static int opts_help(const char *text, const char *implied, bool *help)
{
	struct kv *v = NULL;
	size_t n = 0;
	bool trailing;
	int r = legacy_split(text, implied, &v, &n, &trailing);

	if (r < 0)
		return r;
	*help = is_help(kv_last(v, n, implied)) || kv_last(v, n, "help") || kv_last(v, n, "?");
	kv_free(v, n);
	return 0;
}

static int scan_device(struct vm_args *a, int argi, const char *text)
{
	struct vfio_dev d = DEV_INIT(argi);
	const char *why = NULL;
	bool help = false;
	int r;

	if (text[0] != '{' && (strstr(text, "help") || strchr(text, '?'))) {
		if ((r = opts_help(text, "driver", &help)) < 0)
			return r;
		a->probe |= help;
	}
	if (!strstr(text, "vfio-pci"))
		return 0; /* cheap filter: nothing else concerns us */
	r = text[0] == '{' ? json_device(a, text, &d, &why) : legacy_device(text, &d);
	if (r == -EINVAL)
		return add_bad(a, argi, why);
	if (r > 0 && (r = grow_array((void **)&a->devs, &a->n_devs, sizeof(d), &d)) == 0)
		return 0;
	dev_free(&d);
	return r;
}

/* -machine none (libvirt's capability probe) in any spelling QEMU takes:
 * `none`, `none,accel=kvm:tcg`, `type=none`, JSON; or a help request. */
static int scan_machine(struct vm_args *a, const char *text)
{
	struct kv *v = NULL;
	size_t n = 0;
	bool trailing;
	const char *type;
	int r;

	if (text[0] == '{') {
		struct json_object *o = json_tokener_parse(text);

		a->probe |= o && json_object_is_type(o, json_type_object) && json_str(o, "type") &&
			    !strcmp(json_str(o, "type"), "none");
		json_object_put(o);
		return 0;
	}
	if ((r = legacy_split(text, "type", &v, &n, &trailing)) < 0)
		return r;
	type = kv_last(v, n, "type");
	a->probe |= (type && (!strcmp(type, "none") || is_help(type))) || kv_last(v, n, "help") || kv_last(v, n, "?");
	kv_free(v, n);
	return 0;
}

/* -name guest=NAME,... or -name NAME,... ("guest" is the implied key) */
static int scan_name(struct vm_args *a, const char *text)
{
	struct kv *v = NULL;
	size_t n = 0;
	bool trailing;
	const char *name;
	int r = legacy_split(text, "guest", &v, &n, &trailing);

	if (r < 0)
		return r;
	name = kv_last(v, n, "guest");
	free(a->name);
	a->name = xstrdup(name);
	kv_free(v, n);
	return name && !a->name ? -ENOMEM : 0;
}

/* Reads device k again as its text followed by what -set added. A -set
 * that changed its driver makes it no vfio device: it leaves the list. */
static int reparse(struct vm_args *a, size_t k, const char *orig)
{
	struct vfio_dev *d = &a->devs[k], nd = DEV_INIT(d->argi);
	_cleanup_free_ char *text = NULL;
	int r;

	if (asprintf(&text, "%s%s%s", orig, d->trailing_comma ? "" : ",", d->sets) < 0)
		return -ENOMEM;
	if ((r = legacy_device(text, &nd)) < 0)
		return r;
	nd.trailing_comma = d->trailing_comma; /* of the text we splice into */
	nd.sets = TAKE_PTR(d->sets);
	dev_free(d);
	if (r > 0) {
		*d = nd;
		return 0;
	}
	dev_free(&nd);
	memmove(d, d + 1, (a->n_devs - k - 1) * sizeof(*d));
	a->n_devs--;
	return 0;
}

/* "KEY=VALUE" appended to sets, a value's commas doubled as QemuOpts text
 * needs them. */
static int add_set(char **sets, const char *key, size_t key_len, const char *value)
{
	struct strbuf b = { 0 };

	sb_addf(&b, "%s%s%.*s=", *sets ? *sets : "", *sets ? "," : "", (int)key_len, key);
	for (const char *p = value; *p; p++)
		sb_addf(&b, "%s", *p == ',' ? ",," : (char[]){ *p, 0 });
	free(*sets);
	*sets = sb_take(&b);
	return *sets ? 0 : -ENOMEM;
}

/* -set device.ID.KEY=VALUE (Proxmox `args:`) changes the legacy -device of
 * that id defined before it, as if ",KEY=VALUE" ended its text: QEMU
 * applies -set when it reads it, to QemuOpts only, so a JSON device or one
 * defined later is not found (QEMU refuses to start). An ID holds no dot. */
static int apply_set(struct vm_args *a, char *const *argv, const char *spec)
{
	const char *id = spec + 7, *key, *eq;
	size_t id_len;
	int r;

	if (strncmp(spec, "device.", 7))
		return 0;
	id_len = strcspn(id, ".=");
	key = id + id_len + 1;
	if (id[id_len] != '.' || !(eq = strchr(key, '=')) || eq == key || memchr(key, ',', (size_t)(eq - key)))
		return 0;
	for (size_t k = a->n_devs; k-- > 0;) {
		struct vfio_dev *d = &a->devs[k];

		if (d->syntax != SYNTAX_LEGACY || !d->id || strlen(d->id) != id_len || strncmp(d->id, id, id_len))
			continue;
		if ((r = add_set(&d->sets, key, (size_t)(eq - key), eq + 1)) < 0 ||
		    (r = reparse(a, k, argv[d->argi])) < 0)
			return r;
	}
	return 0;
}

static bool global_is_clique(const char *v)
{
	return (!strncmp(v, "vfio-pci.", 9) && !strncmp(v + 9, CLIQUE_PROP, strlen(CLIQUE_PROP))) ||
	       (!strncmp(v, "vfio-pci-nohotplug.", 19) && !strncmp(v + 19, CLIQUE_PROP, strlen(CLIQUE_PROP)));
}

/* -readconfig FILE: its devices are not seen here; the log says so once. */
static void note_readconfig(struct vm_args *a, int argi)
{
	if (!a->readconfig)
		a->readconfig = argi;
	a->n_readconfig++;
}

/* Returns how many arguments the option at i used, or -ENOMEM. The value
 * of an option read here is skipped, never taken for an option itself. */
static int scan_option(struct vm_args *a, int argc, char *const *argv, int i)
{
	const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
	int r = 0;

	if (is_opt(opt, "version") || is_opt(opt, "help") || is_opt(opt, "h")) {
		a->probe = true;
		return 1;
	}
	if (!val)
		return 1;
	if (is_opt(opt, "device"))
		r = scan_device(a, i + 1, val);
	else if (is_opt(opt, "machine") || is_opt(opt, "M"))
		r = scan_machine(a, val);
	else if (is_opt(opt, "cpu"))
		a->probe |= is_help(val);
	else if (is_opt(opt, "name"))
		r = scan_name(a, val);
	else if (is_opt(opt, "set"))
		r = apply_set(a, argv, val);
	else if (is_opt(opt, "global"))
		a->has_clique_global |= global_is_clique(val);
	else if (is_opt(opt, "readconfig"))
		note_readconfig(a, i + 1);
	else
		return 1;
	return r < 0 ? r : 2;
}

int argv_scan(int argc, char *const *argv, struct vm_args *out)
{
	struct vm_args a = { 0 };
	int used = 1;

	for (int i = 1; i < argc; i += used) {
		used = scan_option(&a, argc, argv, i);
		if (used < 0) {
			vm_args_free(&a);
			return used;
		}
	}
	if (a.json_tok)
		json_tokener_free(a.json_tok);
	a.json_tok = NULL;
	*out = a;
	return 0;
}

void vm_args_free(struct vm_args *a)
{
	for (size_t i = 0; i < a->n_devs; i++)
		dev_free(&a->devs[i]);
	free(a->devs);
	free(a->bad);
	free(a->name);
	if (a->json_tok)
		json_tokener_free(a->json_tok);
	*a = (struct vm_args){ 0 };
}

int argv_splice(const char *text, const struct vfio_dev *dev, int id, char **out)
{
	size_t len = strlen(text);
	char *s = NULL;

	if (dev->syntax == SYNTAX_LEGACY) {
		if (asprintf(&s, "%s%s%s=%d", text, dev->trailing_comma ? "" : ",", CLIQUE_PROP, id) < 0)
			return -ENOMEM;
	} else {
		size_t close = len;
		size_t open;

		while (close > 0 && strchr(" \t\r\n", text[close - 1]))
			close--;
		if (close == 0 || text[close - 1] != '}')
			return -EINVAL;
		close--;
		open = close;
		while (open > 0 && strchr(" \t\r\n", text[open - 1]))
			open--;
		bool empty = open > 0 && text[open - 1] == '{';
		if (asprintf(&s, "%.*s%s\"%s\":%d%s", (int)close, text, empty ? "" : ",", CLIQUE_PROP, id,
			     text + close) < 0)
			return -ENOMEM;
	}
	*out = s;
	return 0;
}
