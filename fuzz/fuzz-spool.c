/* libFuzzer target: the spool file loader (lib/spool.c).  Spool files are
 * written by smtpd, but a corrupt one (a full disk, a crash, a careless
 * administrator) must never crash the queue runner. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	static char path[64];
	struct spool_env env;
	size_t total = 0;
	FILE *fp;
	int fd;

	if (path[0] == '\0') {
		log_init("fuzz", LOG_LVL_ERR, 0);	/* warnings are expected */
		snprintf(path, sizeof(path), "/tmp/fuzz-spool.%ld",
		    (long)getpid());
	}
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (spool_load(path, &env, &fd) == 0) {
		(void)spool_all_final(&env);
		if (env.body_off >= 0 && env.body_len >= 0)
			(void)spool_read_body(fd, &env, sink, &total);
		close(fd);
		spool_env_free(&env);
	}
	unlink(path);
	return 0;
}
