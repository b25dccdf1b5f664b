/* Reading the operator file and the host file with inih, checking every
 * value, and merging them: for each key the operator file wins, then the host
 * file, then the built-in default; [map] is taken whole from one file.
 *
 * inih is fed through our own line reader so that we know the physical line
 * of every value (Debian builds inih without INI_HANDLER_LINENO), can refuse
 * lines inih would cut at 200 characters, and can tell an indented
 * continuation line from a repeated key. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

#define CONFIG_MAX_SIZE (1 << 20)

/* Line reader state shared with the inih callbacks. */
struct parse {
	struct conf_file *f;
	bool host;
	const char *p, *end;
	int line;                                  /* physical line inih is looking at */
	bool continuation;                         /* that line continues the key before it */
	bool after_key;                            /* a key line came since the last [section] */
	unsigned seen_map[MAP_LABEL_MAX / 32 + 1]; /* [map] labels written */
	size_t *map_index;                         /* [map] addresses: hash slots of f->map index + 1, 0 empty */
	size_t index_cap;                          /* a power of two, at least twice n_map */
	char *warned_section;                      /* the unknown section said last */
	int section_line;                          /* the line of the last [section] */
};

static void fail(struct parse *ps, const char *fmt, ...) _printf_(2, 3);
static void fail(struct parse *ps, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (ps->f->error)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&ps->f->error, "%s:%d: %s", ps->f->path, ps->line, msg) < 0)
		ps->f->error = NULL;
}

/* Cuts a comment: '#' or ';' at the start of the line or after blank
 * space, wherever inih was built to look for them. */
static void cut_comment(char *line)
{
	for (char *c = line; *c; c++) {
		if ((*c == '#' || *c == ';') && (c == line || *(c - 1) == ' ' || *(c - 1) == '\t')) {
			*c = '\0';
			return;
		}
	}
}

/* An indented line continues the value before it when a key came since
 * the last [section] (inih's rule) and it holds no '=': indented keys, the
 * common INI style, stay keys. Such a line is handed to inih unindented. */
static void classify(struct parse *ps, char *line)
{
	size_t indent = strspn(line, " \t");
	char *start = line + indent;

	ps->continuation = false;
	if (!*start)
		return;
	if (indent && ps->after_key && !strchr(start, '=')) {
		ps->continuation = true;
		return;
	}
	memmove(line, start, strlen(start) + 1);
	ps->after_key = *line != '[';
	if (*line == '[')
		ps->section_line = ps->line;
}

static char *reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *nl;
	size_t len, copy;

	if (ps->p >= ps->end)
		return NULL;
	nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	len = nl ? (size_t)(nl - ps->p) : (size_t)(ps->end - ps->p);
	ps->line++;
	if (len >= CONFIG_MAX_LINE)
		fail(ps,
		     "line is %zu characters long, the limit is %d: "
		     "continue the value on an indented line",
		     len, CONFIG_MAX_LINE - 1);
	copy = len < (size_t)num - 2 ? len : (size_t)num - 2;
	memcpy(str, ps->p, copy);
	str[copy] = '\0';
	cut_comment(str);
	classify(ps, str);
	strcat(str, "\n");
	ps->p += len + (nl ? 1 : 0);
	return str;
}

/* Splits a value into blank-separated words, calling fn for each. */
static int each_word(struct parse *ps, const char *value, int (*fn)(struct parse *, const char *, void *), void *data)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		int r = fn(ps, w, data);

		if (r < 0)
			return r;
	}
	return 0;
}

/* QEMU's host= spelling, or the kernel's (8-digit VMD domains, which
 * reach QEMU as sysfsdev=). */
static int parse_addr(struct parse *ps, const char *w, struct pci_addr *a)
{
	char why[160];

	if (pci_addr_parse_qemu(w, a) == 0 || pci_addr_parse_sysfs(w, a) == 0)
		return 0;
	pci_addr_why(w, why, sizeof(why));
	fail(ps, "'%s' is not a PCI address: %s", w, why);
	return -EINVAL;
}

static int add_exclude(struct parse *ps, const char *w, void *data)
{
	char *name = strdup(w);

	if (!name || grow_array((void **)&ps->f->exclude, &ps->f->n_exclude, sizeof(name), &name) < 0) {
		free(name);
		return -ENOMEM;
	}
	return 0;
}

/* ADDRESS/ID, or a bare ADDRESS (a file written before ids). */
static int add_c8_free(struct parse *ps, const char *w, void *data)
{
	struct c8_entry e = { 0 };
	const char *slash = strchr(w, '/');
	char addr[64];

	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - w) : (int)strlen(w), w);
	if (parse_addr(ps, addr, &e.addr) < 0)
		return 0; /* recorded; keep reading for further errors */
	if (slash && (strlen(slash + 1) >= sizeof(e.id) || !slash[1] ||
		      strspn(slash + 1, "0123456789abcdef:") != strlen(slash + 1))) {
		fail(ps, "c8_free: '%s' is not ADDRESS/ID; run qemu-p2p refresh to write this file again", w);
		return 0;
	}
	if (slash)
		snprintf(e.id, sizeof(e.id), "%s", slash + 1);
	return grow_array((void **)&ps->f->c8_free, &ps->f->n_c8_free, sizeof(e), &e);
}

static size_t addr_hash(const struct pci_addr *a)
{
	uint64_t h = ((uint64_t)a->domain << 16 | (uint64_t)a->bus << 8 | (uint64_t)a->slot << 3 | a->func) *
		     0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ h >> 32);
}

/* The slot of addr in the [map] index: its entry's, or the empty one where
 * it goes. Linear probing; the index is never full. */
static size_t *index_slot(struct parse *ps, const struct pci_addr *addr)
{
	size_t i = addr_hash(addr) & (ps->index_cap - 1);

	while (ps->map_index[i] && !pci_addr_equal(&ps->f->map[ps->map_index[i] - 1].addr, addr))
		i = (i + 1) & (ps->index_cap - 1);
	return &ps->map_index[i];
}

/* Room for one more address, keeping the index at most half full, so the
 * duplicate check stays constant time per address. */
static int index_reserve(struct parse *ps)
{
	size_t cap = ps->index_cap ? ps->index_cap * 2 : 64;

	if ((ps->f->n_map + 1) * 2 <= ps->index_cap)
		return 0;
	free(ps->map_index);
	if (!(ps->map_index = calloc(cap, sizeof(*ps->map_index))))
		return -ENOMEM;
	ps->index_cap = cap;
	for (size_t i = 0; i < ps->f->n_map; i++)
		*index_slot(ps, &ps->f->map[i].addr) = i + 1;
	return 0;
}

static int add_map_addr(struct parse *ps, const char *w, void *data)
{
	struct map_entry e = { .label = *(int *)data };
	size_t *slot;

	if (parse_addr(ps, w, &e.addr) < 0)
		return 0;
	if (index_reserve(ps) < 0)
		return -ENOMEM;
	slot = index_slot(ps, &e.addr);
	if (*slot) {
		int other = ps->f->map[*slot - 1].label;

		if (other != e.label)
			fail(ps, "%s is in group %d and in group %d: an address belongs to one group", w, other,
			     e.label);
		return 0;
	}
	if (grow_array((void **)&ps->f->map, &ps->f->n_map, sizeof(e), &e) < 0)
		return -ENOMEM;
	*slot = ps->f->n_map;
	return 0;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return false;
	return true;
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* One handler per key; `v` is the value, already trimmed by inih. */
static int key_binary(struct parse *ps, const char *v)
{
	if (v[0] != '/') {
		fail(ps, "binary = %s: give an absolute path", v);
		return 0;
	}
	return set_string(&ps->f->binary, v);
}

static int key_version(struct parse *ps, const char *v)
{
	return set_string(&ps->f->version, v);
}

static int key_identity(struct parse *ps, const char *v)
{
	return set_string(&ps->f->identity, v);
}

/* The index of v (any case) among names; else the line fails with
 * "key = v: use a, b or c" and -1. */
static int choice(struct parse *ps, const char *key, const char *v, const char *const *names, size_t n)
{
	char list[128] = "";

	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v, names[i]))
			return (int)i;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i == 0      ? ""
			 : i + 1 < n ? ", "
				     : " or ",
			 names[i]);
	fail(ps, "%s = %s: use %s", key, v, list);
	return -1;
}

static int key_mode(struct parse *ps, const char *v)
{
	static const char *const modes[] = { [MODE_AUTO] = "auto", [MODE_MAP] = "map", [MODE_OFF] = "off" };
	int i = choice(ps, "mode", v, modes, ARRAY_SIZE(modes));

	if (i >= 0)
		ps->f->mode = (enum clique_mode)i;
	return 0;
}

static int key_level(struct parse *ps, const char *v)
{
	if (link_level_parse(v, &ps->f->level) < 0)
		fail(ps, "level = %s: use PIX, PXB, PHB, NODE, SYS or auto", v);
	return 0;
}

static int key_hotplug(struct parse *ps, const char *v)
{
	if (!strcasecmp(v, "global"))
		ps->f->hotplug = HOTPLUG_GLOBAL;
	else if (!strcasecmp(v, "none") || !strcasecmp(v, "off"))
		ps->f->hotplug = HOTPLUG_NONE;
	else
		fail(ps, "hotplug = %s: use global or none", v);
	return 0;
}

static int key_hotplug_ok(struct parse *ps, const char *v)
{
	if (!parse_bool(v, &ps->f->hotplug_global_ok))
		fail(ps, "hotplug_global_ok = %s: use yes or no", v);
	return 0;
}

static int key_exclude(struct parse *ps, const char *v)
{
	return each_word(ps, v, add_exclude, NULL);
}

static int key_c8_free(struct parse *ps, const char *v)
{
	return each_word(ps, v, add_c8_free, NULL);
}

static int key_log(struct parse *ps, const char *v)
{
	static const char *const targets[] = {
		[LOGT_STDERR] = "stderr", [LOGT_SYSLOG] = "syslog", [LOGT_BOTH] = "both", [LOGT_OFF] = "off"
	};
	int i = choice(ps, "target", v, targets, ARRAY_SIZE(targets));

	if (i >= 0)
		ps->f->log = (enum log_target)i;
	return 0;
}

enum { IN_OP = 1, IN_HOST = 2 };

static const struct key {
	const char *section, *name;
	unsigned files, bit;
	bool list; /* continuation lines add to the value */
	int (*handle)(struct parse *, const char *);
} keys[] = {
	{ "qemu", "binary", IN_OP | IN_HOST, SET_BINARY, false, key_binary },
	{ "qemu", "version", IN_HOST, SET_VERSION, false, key_version },
	{ "qemu", "identity", IN_HOST, SET_IDENTITY, false, key_identity },
	{ "cliques", "mode", IN_OP | IN_HOST, SET_MODE, false, key_mode },
	{ "cliques", "level", IN_OP | IN_HOST, SET_LEVEL, false, key_level },
	{ "cliques", "exclude", IN_OP, SET_EXCLUDE, true, key_exclude },
	{ "cliques", "hotplug", IN_OP, SET_HOTPLUG, false, key_hotplug },
	{ "cliques", "hotplug_global_ok", IN_HOST, SET_HOTPLUG_OK, false, key_hotplug_ok },
	{ "gpus", "c8_free", IN_HOST, SET_C8_FREE, true, key_c8_free },
	{ "log", "target", IN_OP, SET_LOG, false, key_log },
};

static int warn(struct parse *ps, const char *fmt, ...) _printf_(2, 3);
static int warn(struct parse *ps, const char *fmt, ...)
{
	char msg[300], *w = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&w, "%s:%d: %s", ps->f->path, ps->line, msg) < 0)
		return -ENOMEM;
	if (grow_array((void **)&ps->f->warnings, &ps->f->n_warnings, sizeof(w), &w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

static int map_line(struct parse *ps, const char *name, const char *value)
{
	char *end = NULL;
	long label;
	unsigned bit;

	errno = 0;
	label = strtol(name, &end, 10);
	if (!name[0] || *end || errno || label < 0 || label > MAP_LABEL_MAX || name[0] == '+' || name[0] == '-') {
		fail(ps, "[map] label '%s': use a number from 0 to %d", name, MAP_LABEL_MAX);
		return 0;
	}
	ps->f->set |= SET_MAP;
	bit = 1u << (label % 32);
	if (!ps->continuation && (ps->seen_map[label / 32] & bit) &&
	    warn(ps, "[map] label %ld set again; its addresses join the same group", label) < 0)
		return -ENOMEM;
	ps->seen_map[label / 32] |= bit;
	int l = (int)label;
	return each_word(ps, value, add_map_addr, &l);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A key written again: the last value wins, as the man page says; a list
 * starts over. */
static int set_again(struct parse *ps, const struct key *k, const char *name)
{
	if (k->bit == SET_EXCLUDE) {
		free_strv(ps->f->exclude, ps->f->n_exclude);
		ps->f->exclude = NULL, ps->f->n_exclude = 0;
	} else if (k->bit == SET_C8_FREE) {
		free(ps->f->c8_free);
		ps->f->c8_free = NULL, ps->f->n_c8_free = 0;
	}
	return warn(ps, "'%s' set again; the last value wins", name);
}

/* An unknown section is said once, as a section, with the nearest known
 * one; an unknown key of a known section as a key. Both only warn: a newer
 * Ansible role may write what this version does not know. */
static int unknown(struct parse *ps, const char *section, const char *name)
{
	static const char *const sections[] = { "qemu", "cliques", "gpus", "log", "map" };
	const char *near;
	int line, r;

	for (unsigned i = 0; i < ARRAY_SIZE(sections); i++)
		if (!strcasecmp(section, sections[i]))
			return warn(ps, "unknown key '%s' in [%s], ignored", name, section);
	if (ps->warned_section && !strcasecmp(ps->warned_section, section))
		return 0;
	free(ps->warned_section);
	if (!(ps->warned_section = strdup(section)))
		return -ENOMEM;
	near = nearest_word(section, sections, ARRAY_SIZE(sections));
	line = ps->line;
	ps->line = ps->section_line;
	r = near ? warn(ps, "unknown section [%s], ignored with its keys; did you mean [%s]?", section, near)
		 : warn(ps, "unknown section [%s], ignored with its keys", section);
	ps->line = line;
	return r;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	unsigned mine = ps->host ? IN_HOST : IN_OP;

	/* Section and key names ignore case, as inih's own matching does. */
	if (!strcasecmp(section, "map"))
		return map_line(ps, name, value) == 0;
	for (unsigned i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		if (strcasecmp(section, k->section) || strcasecmp(name, k->name) || !(k->files & mine))
			continue;
		if (ps->continuation && !k->list) {
			fail(ps, "%s takes one value; this indented line continues it", name);
			return 1;
		}
		if (!ps->continuation && (ps->f->set & k->bit) && set_again(ps, k, name) < 0)
			return 0;
		ps->f->set |= k->bit;
		return k->handle(ps, value) == 0;
	}
	return unknown(ps, section, name) == 0;
}

int config_parse_text(const char *path, const char *text, size_t len, bool host, struct conf_file *f)
{
	struct parse ps = { .f = f, .host = host, .p = text, .end = text + len };
	int r;

	if (!f->path && !(f->path = strdup(path)))
		return -ENOMEM;
	f->present = f->trusted = true;
	if (memchr(text, '\0', len)) {
		fail(&ps, "the file contains a NUL byte");
		return 0;
	}
	r = ini_parse_stream(reader, &ps, handler, &ps);
	free(ps.map_index);
	free(ps.warned_section);
	if (r > 0 && !f->error) {
		ps.line = r;
		fail(&ps, "not a 'key = value' line, a [section] or a comment");
	} else if (r < 0 && !f->error) {
		return -ENOMEM;
	}
	return 0;
}

/* Opens path without following a link and checks it on the descriptor;
 * *size is what fstat said. */
static int open_checked(struct conf_file *f, int *fd_out, size_t *size)
{
	/* O_NONBLOCK: a FIFO (or device) there must not hang the VM start; it
	 * is refused below as not a regular file. */
	_cleanup_close_ int fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	const char *why = NULL;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		f->present = true;
		/* ENXIO: a socket, or a device with nothing behind it. */
		why = errno == ELOOP   ? "is a symbolic link; write the file itself there"
		      : errno == ENXIO ? "not a regular file; file ignored"
				       : strerror(errno);
		if (asprintf(&f->error, "%s: %s", f->path, why) < 0)
			return -ENOMEM;
		return 0;
	}
	f->present = true;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != 0)
		why = "not owned by root (chown root:root it)";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by group or others (chmod 644 it)";
	else if (st.st_size > CONFIG_MAX_SIZE)
		why = "larger than 1 MiB";
	if (why) {
		if (asprintf(&f->error, "%s: %s; file ignored", f->path, why) < 0)
			return -ENOMEM;
		return 0;
	}
	*size = (size_t)st.st_size;
	*fd_out = TAKE_FD(fd);
	return 0;
}

static int load_file(const char *path, bool host, struct conf_file *f)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	size_t size = 0, len = 0;
	int r;

	if (!(f->path = strdup(path)))
		return -ENOMEM;
	r = open_checked(f, &fd, &size);
	if (r < 0 || fd < 0)
		return r;
	r = read_fd_sized(fd, size, CONFIG_MAX_SIZE, &text, &len);
	if (r < 0) {
		if (asprintf(&f->error, "%s: %s", path, strerror(-r)) < 0)
			return -ENOMEM;
		return 0;
	}
	return config_parse_text(path, text, len, host, f);
}

char *config_host_path(const char *op_path)
{
	const char *slash = strrchr(op_path, '/');
	int dirlen = slash ? (int)(slash - op_path) : 1;
	char *out = NULL;

	if (asprintf(&out, "%.*s/qemu-p2p.d/host.conf", dirlen, slash ? op_path : ".") < 0)
		return NULL;
	return out;
}

#define PICK(field, bit, dflt) ((op->set & (bit)) ? op->field : (host->set & (bit)) ? host->field : (dflt))

static void merge(struct config *cfg)
{
	const struct conf_file *op = &cfg->op, *host = &cfg->host;
	const struct conf_file *map = (op->set & SET_MAP) ? op : host;

	cfg->error = op->error ? op->error : host->error;
	cfg->valid = !cfg->error;
	/* A binary survives a bad value elsewhere, not an untrusted file. */
	cfg->binary = op->trusted && op->binary ? op->binary : host->trusted ? host->binary : NULL;
	cfg->mode = PICK(mode, SET_MODE, MODE_AUTO);
	cfg->level = PICK(level, SET_LEVEL, LINK_AUTO);
	cfg->hotplug = PICK(hotplug, SET_HOTPLUG, HOTPLUG_NONE);
	cfg->log = PICK(log, SET_LOG, LOGT_STDERR);
	cfg->exclude = op->exclude;
	cfg->n_exclude = op->n_exclude;
	cfg->map = map->map;
	cfg->n_map = map->n_map;
	cfg->map_source = (map->set & SET_MAP) ? map->path : NULL;
}

int config_load(const char *op_path, struct config *cfg)
{
	_cleanup_free_ char *host_path = config_host_path(op_path);
	int r;

	*cfg = (struct config){ 0 };
	if (!host_path)
		return -ENOMEM;
	r = load_file(op_path, false, &cfg->op);
	if (r == 0)
		r = load_file(host_path, true, &cfg->host);
	merge(cfg);
	return r;
}

void conf_file_free(struct conf_file *f)
{
	free(f->path);
	free(f->binary);
	free(f->version);
	free(f->identity);
	free_strv(f->exclude, f->n_exclude);
	free(f->map);
	free(f->c8_free);
	free_strv(f->warnings, f->n_warnings);
	free(f->error);
	*f = (struct conf_file){ 0 };
}

void config_free(struct config *cfg)
{
	conf_file_free(&cfg->op);
	conf_file_free(&cfg->host);
	*cfg = (struct config){ 0 };
}

const char *clique_mode_name(enum clique_mode m)
{
	return m == MODE_MAP ? "map" : m == MODE_OFF ? "off" : "auto";
}

int config_map_label(const struct config *cfg, const struct pci_addr *addr)
{
	for (size_t i = 0; i < cfg->n_map; i++)
		if (pci_addr_equal(&cfg->map[i].addr, addr))
			return cfg->map[i].label;
	return -1;
}

bool config_excludes(const struct config *cfg, const char *vm_name)
{
	if (!vm_name)
		return false;
	for (size_t i = 0; i < cfg->n_exclude; i++)
		if (!strcmp(cfg->exclude[i], vm_name))
			return true;
	return false;
}
