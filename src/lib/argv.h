/* Reading a QEMU command line the way QEMU reads it, and splicing the clique
 * property into a `-device` argument without changing any other byte.
 * Pure logic: no I/O, so it is unit-tested and fuzzed directly. */
#ifndef QP2P_ARGV_H
#define QP2P_ARGV_H

#include <stdbool.h>
#include <stddef.h>

#define CLIQUE_PROP "x-nv-gpudirect-clique"
#define CLIQUE_MAX 15

enum dev_syntax { SYNTAX_JSON, SYNTAX_LEGACY };
enum dev_source { SRC_NONE, SRC_HOST, SRC_SYSFSDEV, SRC_FD };

/* A `-device` argument whose driver is vfio-pci or vfio-pci-nohotplug. */
struct vfio_dev {
	int argi; /* index of the -device value in argv */
	enum dev_syntax syntax;
	char *id; /* owned, NULL if none */
	enum dev_source source;
	char *source_value;  /* host=, sysfsdev= or fd= as written (owned) */
	long vendor;         /* x-pci-vendor-id: -1 absent, -2 not a number */
	long class_code;     /* x-pci-class-code (QEMU 10): -1 absent, -2 invalid */
	int clique;          /* -1 absent, 0..15 explicit, -2 present but invalid */
	bool trailing_comma; /* legacy text ends with a separator comma */
	char *sets;          /* "KEY=VALUE,..." that -set added after it (commas
			       doubled), owned; NULL if none */
};

/* A -device that mentions vfio-pci but cannot be read: left untouched. */
struct bad_dev {
	int argi;
	const char *why; /* static string */
};

struct json_tokener;

struct vm_args {
	char *name;             /* -name guest=NAME (owned), NULL if none */
	bool probe;             /* capability probe (-machine none), -version or a help
		       request: pass through. -daemonize, -qmp, -S start VMs */
	bool has_clique_global; /* the command line already has a clique -global */
	int readconfig;         /* argv index of the first -readconfig FILE, 0 if none */
	int n_readconfig;       /* how many -readconfig options */
	struct vfio_dev *devs;
	size_t n_devs;
	struct bad_dev *bad;
	size_t n_bad;
	struct json_tokener *json_tok; /* private to argv_scan: reused for each JSON -device */
};

/* Scans argv (borrowed). Returns 0 or -ENOMEM; unreadable devices are listed
 * in out->bad, never an error. */
int argv_scan(int argc, char *const *argv, struct vm_args *out);
void vm_args_free(struct vm_args *a);

/* The argument text with `x-nv-gpudirect-clique` = id added (owned). */
int argv_splice(const char *text, const struct vfio_dev *dev, int id, char **out);

/* The pair added for `[cliques] hotplug = global`. */
#define CLIQUE_GLOBAL_OPT "-global"
#define CLIQUE_GLOBAL_VALUE "vfio-pci." CLIQUE_PROP "=0"

#endif
