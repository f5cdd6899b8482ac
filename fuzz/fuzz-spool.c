/* libFuzzer target: the spool file loader (lib/spool.c).  Spool files are
 * written by smtpd, but a corrupt one (a full disk, a crash, a careless
 * administrator) must never crash the queue runner. */
#include <fcntl.h>
#include <unistd.h>

#include "../global/spool.h"
#include "fuzz.h"

static int
sink(const char *d, size_t n, void *arg)
{
	(void)d;
	*(size_t *)arg += n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile("spool", data, size);
	struct spool_env env;
	size_t total = 0;
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY)) != -1) {	/* what a slot holds */
		(void)spool_slot_holds(fd);
		close(fd);
	}
	if (spool_load(path, &env, &fd) == 0) {
		(void)spool_all_final(&env);
		(void)spool_read_body(fd, &env, sink, &total);
		(void)spool_verify(fd, &env);
		close(fd);
		spool_env_free(&env);
	}
	unlink(path);
	return 0;
}
