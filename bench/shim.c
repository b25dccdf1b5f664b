/* The floor of any wrapper: a static program that only execs the stand-in
 * QEMU with its own argv. A wrapper row "above the shim" is what the wrapper
 * costs beyond the exec every wrapper pays. */
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argc;
	execv(STANDIN, argv);
	return 127;
}
