/* Shared CLI helpers (see common.h). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "commands.h"
#include "resolve.h"
#include "sysfs.h"

extern char **environ;

const char *cli_config_path(const char *opt)
{
	const char *env = getenv("QEMU_P2P_CONFIG");

	if (opt)
		return opt;
	return env && env[0] ? env : CONFIG_DEFAULT_PATH;
}

int cli_config_load(const char *opt, struct config *cfg)
{
	const char *path = cli_config_path(opt);
	struct stat st;
	int r;

	*cfg = (struct config){ 0 };
	/* The wrapper reads defaults when the default file is missing; a file
	 * named on purpose and missing is a mistyped path. */
	if (opt && lstat(path, &st) < 0 && errno == ENOENT) {
		cli_error("%s: no such file (given with --config); write it, or leave out --config to use %s", path,
			  CONFIG_DEFAULT_PATH);
		return -ENOENT;
	}
	r = config_load(path, cfg);
	if (r < 0)
		cli_error("%s: %s", path, strerror(-r));
	return r;
}

int cli_config_usable(const struct config *cfg)
{
	if (cfg->valid)
		return 0;
	cli_error("configuration rejected: %s; until it is fixed the wrapper starts every VM without cliques",
		  cfg->error);
	return -EINVAL;
}

bool cli_readable_by_vms(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & S_IROTH);
}

bool cli_is_wrapper(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	void *map;
	bool found;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return false;
	found = memmem(map, (size_t)st.st_size, WRAPPER_MARKER, strlen(WRAPPER_MARKER)) != NULL;
	munmap(map, (size_t)st.st_size);
	return found;
}

int cli_real_qemu(const struct config *cfg, const char *arch, char **out, struct err *e)
{
	char first[PATH_MAX], path[PATH_MAX];
	struct resolve_in in = {
		.config_binary = cfg->binary,
		.arch = arch,
		.search_path = RESOLVE_STD_PATH,
		.fallback = RESOLVE_RHEL_QEMU,
	};
	int r;

	bool found = resolve_on_path(RESOLVE_STD_PATH, arch, first, sizeof(first)) == 0;

	if (found && cli_is_wrapper(first))
		in.self = first;
	else if (found && !cfg->binary)
		return (*out = strdup(first)) ? 0 : -ENOMEM;
	if ((r = resolve_qemu(&in, path, sizeof(path), e)) < 0)
		return r;
	return (*out = strdup(path)) ? 0 : -ENOMEM;
}

int cli_capture(char *const argv[], char **out, int *status)
{
	_cleanup_close_ int fd = memfd_create("qemu-p2p-capture", MFD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	if (fd < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	lseek(fd, 0, SEEK_SET);
	return read_fd(fd, 1 << 20, out, NULL);
}
