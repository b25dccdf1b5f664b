/* The stand-in for QEMU in benchmarks: exits at once, so a run measures
 * only process start-up and, through the wrapper, the wrapper's work. */
int main(void)
{
	return 0;
}
