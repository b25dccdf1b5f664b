/* The two configuration files: the operator's /etc/qemu-p2p.conf and the
 * generated host file /etc/qemu-p2p.d/host.conf beside it (DESIGN "Files").
 *
 * SECURITY (MUST):
 *  - both files MUST be opened with O_NOFOLLOW and checked on the descriptor:
 *    a regular file, owned by root, not writable by group or other. A file
 *    that fails is ignored as a whole, including its [qemu] binary;
 *  - a file that parses but holds a bad value rejects the configuration
 *    (the VM starts untouched), but its valid [qemu] binary is still used;
 *  - any physical line of 200 characters or more is an error: Debian's inih
 *    would cut it silently and we would read half a map. */
#ifndef QP2P_CONFIG_H
#define QP2P_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "level.h"
#include "pci.h"

#define CONFIG_DEFAULT_PATH "/etc/qemu-p2p.conf"
#define CONFIG_MAX_LINE 200
#define MAP_LABEL_MAX 9999

enum clique_mode { MODE_AUTO, MODE_MAP, MODE_OFF };
enum log_target { LOGT_STDERR, LOGT_SYSLOG, LOGT_BOTH, LOGT_OFF };
enum hotplug { HOTPLUG_NONE, HOTPLUG_GLOBAL };

struct map_entry {
	int label;
	struct pci_addr addr;
};

/* A GPU whose offset 0xC8 refresh found free, and the card it found there:
 * "10de:2bb1:10de:204b:5f3a9c21" (facts_gpu_id), so a card swapped in
 * since is never trusted. "" for an entry of a file from before ids. */
#define C8_ID_MAX 40
struct c8_entry {
	struct pci_addr addr;
	char id[C8_ID_MAX];
};

/* Bits of conf_file.set: which keys a file named. */
enum {
	SET_BINARY = 1 << 0,
	SET_VERSION = 1 << 1,
	SET_IDENTITY = 1 << 2,
	SET_MODE = 1 << 3,
	SET_LEVEL = 1 << 4,
	SET_HOTPLUG = 1 << 5,
	SET_HOTPLUG_OK = 1 << 6,
	SET_EXCLUDE = 1 << 7,
	SET_MAP = 1 << 8,
	SET_C8_FREE = 1 << 9,
	SET_LOG = 1 << 10,
};

/* What one file said. Everything is owned by the struct. */
struct conf_file {
	char *path;
	bool present; /* the file exists */
	bool trusted; /* owner/mode checks passed and it was read */
	unsigned set; /* SET_* bits */
	char *binary, *version, *identity;
	enum clique_mode mode;
	enum link_level level;
	enum hotplug hotplug;
	bool hotplug_global_ok;
	char **exclude;
	size_t n_exclude;
	struct map_entry *map;
	size_t n_map;
	struct c8_entry *c8_free;
	size_t n_c8_free;
	enum log_target log;
	char **warnings; /* "file:line: ..." for unknown keys */
	size_t n_warnings;
	char *error; /* first error, "file:line: ...", or NULL */
};

/* Both files and the values that win. Pointers in the merged part borrow
 * from op or host. */
struct config {
	struct conf_file op, host;
	bool valid;        /* no error in either file */
	const char *error; /* first error of the two, or NULL */
	const char *binary;
	enum clique_mode mode;
	enum link_level level;
	enum hotplug hotplug;
	enum log_target log;
	char *const *exclude;
	size_t n_exclude;
	const struct map_entry *map;
	size_t n_map;
	const char *map_source; /* path of the file whose [map] is used */
};

/* Path of the host file that belongs beside an operator file (owned). */
char *config_host_path(const char *op_path);

/* Load both files. Never fails for a bad file: that is recorded in
 * cfg->valid / cfg->error. Returns -ENOMEM only. */
int config_load(const char *op_path, struct config *cfg);

/* Parse one file from memory (for tests and fuzzing) into f, which starts
 * zeroed (or holds a path to keep); `host` selects which
 * keys are known. Fills f; errors land in f->error. */
int config_parse_text(const char *path, const char *text, size_t len, bool host, struct conf_file *f);

void conf_file_free(struct conf_file *f);
void config_free(struct config *cfg);

const char *clique_mode_name(enum clique_mode m);

/* Label of addr in the map, or -1. */
int config_map_label(const struct config *cfg, const struct pci_addr *addr);

bool config_excludes(const struct config *cfg, const char *vm_name);

#endif
