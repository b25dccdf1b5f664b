/* Paths for install, uninstall and status, and the domains libvirt has
 * defined (see layout.h). */
#include "layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util.h"

/* A domain file libvirt wrote is a few kB; one this large is not read. */
#define DOMAIN_MAX (1 << 20)

#ifndef QEMU_P2P_WRAPPER_PATH
#define QEMU_P2P_WRAPPER_PATH "/usr/libexec/qemu-p2p/qemu-p2p-wrap"
#endif

const char *layout_path(const struct layout *l, const char *path, struct rpath *buf)
{
	snprintf(buf->s, sizeof(buf->s), "%s%s", l->root, path);
	return buf->s;
}

static void find_wrapper(struct layout *l, const char *wrapper)
{
	char self[PATH_MAX];
	ssize_t n;

	if (wrapper) {
		snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s", wrapper);
		return;
	}
	snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s", QEMU_P2P_WRAPPER_PATH);
	if (access(l->wrapper_src, X_OK) == 0)
		return;
	/* Run from a build tree: build/src/cli/qemu-p2p -> build/src/wrap/. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(l->wrapper_src, sizeof(l->wrapper_src), "%s/../wrap/qemu-p2p-wrap", dirname(self));
	}
}

int layout_init(struct layout *l, const char *root, const char *arch, const char *wrapper)
{
	struct rpath p;

	*l = (struct layout){ 0 };
	if (root && strcmp(root, "/"))
		snprintf(l->root, sizeof(l->root), "%s", root);
	while (l->root[0] && l->root[strlen(l->root) - 1] == '/')
		l->root[strlen(l->root) - 1] = '\0';
	snprintf(l->arch, sizeof(l->arch), "%s", arch);
	l->dpkg = access(layout_path(l, "/var/lib/dpkg/status", &p), F_OK) == 0;
	l->rpm = !l->dpkg && (access(layout_path(l, "/usr/libexec/qemu-kvm", &p), F_OK) == 0 ||
			      access(layout_path(l, "/etc/redhat-release", &p), F_OK) == 0);
	if (l->rpm) {
		/* Free there, found before the /usr/libexec/qemu-kvm fallback and
		 * already labelled qemu_exec_t (FACTS §5). */
		snprintf(l->packaged, sizeof(l->packaged), "/usr/libexec/qemu-kvm");
		snprintf(l->shadow, sizeof(l->shadow), "/usr/bin/qemu-system-%s", arch);
	} else {
		snprintf(l->packaged, sizeof(l->packaged), "/usr/bin/qemu-system-%s", arch);
		snprintf(l->shadow, sizeof(l->shadow), "/usr/local/bin/qemu-system-%s", arch);
	}
	snprintf(l->state, sizeof(l->state), "%s/install.state", INSTALL_STATE_DIR);
	find_wrapper(l, wrapper);
	return 0;
}

enum install_mode layout_state(const struct layout *l, char *path, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char mode[32] = "";
	struct rpath state;
	const char *p;

	path[0] = '\0';
	if (read_file_at(AT_FDCWD, layout_path(l, l->state, &state), 4096, &text, NULL) < 0)
		return INSTALL_NONE;
	if ((p = strstr(text, "mode = ")))
		sscanf(p, "mode = %31s", mode);
	if ((p = strstr(text, "wrapper = ")))
		snprintf(path, size, "%.*s", (int)strcspn(p + 10, "\n"), p + 10);
	return !strcmp(mode, "divert") ? INSTALL_DIVERT : !strcmp(mode, "shadow") ? INSTALL_SHADOW : INSTALL_NONE;
}

/* Parses a domain file with the parser and options libvirt uses (libxml2,
 * NONET: nothing fetched, no external DTD; comments, CDATA, character and
 * internal entity references and namespaces are the parser's business) and
 * checks the root is <domain>. libxml2 would print its errors on stderr:
 * they are kept in why ("line N: what") instead. Owned result, or NULL. */
static xmlDocPtr domain_parse(const char *xml, size_t len, const char *url, char *why, size_t size)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	xmlNodePtr root;

	if (!ctxt || len > INT_MAX) {
		snprintf(why, size, "%s", ctxt ? "too large" : strerror(ENOMEM));
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, url, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		xmlErrorPtr x = xmlCtxtGetLastError(ctxt);
		const char *msg = x && x->message ? x->message : "not XML";

		snprintf(why, size, "line %d: %.*s", x ? x->line : 0, (int)strcspn(msg, "\n"), msg);
	} else if (!(root = xmlDocGetRootElement(doc)) || xmlStrcmp(root->name, BAD_CAST "domain")) {
		snprintf(why, size, "no <domain> element at the top");
		xmlFreeDoc(TAKE_PTR(doc));
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static bool is_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !xmlStrcmp(n->name, BAD_CAST name);
}

/* The element libvirt takes the emulator from, string(./devices/emulator[1])
 * below <domain>: the first <emulator> of the first <devices> that has one
 * (elements in another namespace are not libvirt's). NULL when none. */
static xmlNodePtr emulator_node(xmlDocPtr doc)
{
	for (xmlNodePtr d = xmlDocGetRootElement(doc)->children; d; d = d->next)
		for (xmlNodePtr e = is_element(d, "devices") ? d->children : NULL; e; e = e->next)
			if (is_element(e, "emulator"))
				return e;
	return NULL;
}

/* Its text, as libvirt uses it (no trimming): "" when there is none. */
static void emulator_text(xmlNodePtr e, char *out, size_t size)
{
	xmlChar *text = e ? xmlNodeGetContent(e) : NULL;

	snprintf(out, size, "%s", text ? (const char *)text : "");
	xmlFree(text);
}

static void domain_read(const char *path, struct domain *dom)
{
	_cleanup_free_ char *xml = NULL;
	size_t len = 0;
	xmlDocPtr doc;
	int r = read_file_at(AT_FDCWD, path, DOMAIN_MAX, &xml, &len);

	if (r < 0) {
		snprintf(dom->error, sizeof(dom->error), "%s", err_text(r));
		return;
	}
	if (len >= DOMAIN_MAX) {
		snprintf(dom->error, sizeof(dom->error), "1 MiB or larger, not read");
		return;
	}
	if ((doc = domain_parse(xml, len, path, dom->error, sizeof(dom->error)))) {
		emulator_text(emulator_node(doc), dom->emulator, sizeof(dom->emulator));
		xmlFreeDoc(doc);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct domain *)a)->name, ((const struct domain *)b)->name);
}

int domains_list(const struct layout *l, struct domain **out, size_t *n)
{
	struct rpath dir;
	DIR *d = opendir(layout_path(l, "/etc/libvirt/qemu", &dir));
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		_cleanup_free_ char *path = NULL;
		struct domain dom = { 0 };

		if (len < 5 || strcmp(e->d_name + len - 4, ".xml"))
			continue;
		snprintf(dom.name, sizeof(dom.name), "%.*s", (int)(len - 4), e->d_name);
		if (asprintf(&path, "%s/%s", dir.s, e->d_name) < 0)
			path = NULL;
		if (path)
			domain_read(path, &dom);
		if (!path || grow_array((void **)out, n, sizeof(dom), &dom) < 0) {
			closedir(d);
			free(TAKE_PTR(*out));
			*n = 0;
			return -ENOMEM;
		}
	}
	closedir(d);
	if (*n > 1) /* readdir's order is the file system's */
		qsort(*out, *n, sizeof(**out), by_name);
	return 0;
}

bool domain_may_use(const struct domain *d, const char *path)
{
	return d->error[0] || !strcmp(d->emulator, path);
}

int domain_xml_set_emulator(const char *xml, const char *from, const char *to, char **out, struct err *e)
{
	char why[256] = "", now[PATH_MAX];
	xmlDocPtr doc = domain_parse(xml, strlen(xml), NULL, why, sizeof(why));
	xmlNodePtr node = doc ? emulator_node(doc) : NULL;
	xmlChar *text = NULL;
	int size = 0, r = -EINVAL;

	emulator_text(node, now, sizeof(now));
	if (!doc)
		err_set(e, "not a domain: %s", why);
	else if (strcmp(now, from))
		err_set(e, "its <emulator> is '%s', not %s", now, from);
	else {
		/* A text node: the serialiser escapes what the path holds. */
		xmlNodeSetContent(node, NULL);
		xmlAddChild(node, xmlNewDocText(doc, BAD_CAST to));
		xmlDocDumpMemory(doc, &text, &size);
		r = text && (*out = strndup((const char *)text, (size_t)size)) ? 0 : -ENOMEM;
	}
	xmlFree(text);
	xmlFreeDoc(doc);
	return r;
}
