/* Test code only: a stand-in for QEMU for tests/integration/faults.py. It
 * records its arguments (NUL-separated) in $RECORD.args and the signal
 * mask and ignored signals it inherited (/proc/self/status SigBlk, SigIgn)
 * in $RECORD.sig, touching no signal itself, then exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *record(const char *ext)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.%s", getenv("RECORD") ? getenv("RECORD") : "/tmp/standin", ext);
	return fopen(path, "w");
}

int main(int argc, char **argv)
{
	char line[256];
	FILE *args = record("args"), *sig = record("sig"), *status = fopen("/proc/self/status", "r");

	if (!args || !sig || !status)
		return 1;
	for (int i = 1; i < argc; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, args);
	while (fgets(line, sizeof(line), status))
		if (!strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7))
			fputs(line, sig);
	return fclose(args) || fclose(sig) ? 1 : 0;
}
