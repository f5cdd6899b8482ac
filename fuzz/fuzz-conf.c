/* libFuzzer target: the configuration parser (lib/conf.c). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char err[512];
	struct conf *c;
	FILE *fp;

	if (path[0] == '\0') {
		log_init("fuzz", LOG_LVL_ERR, 0);	/* warnings are expected */
		snprintf(path, sizeof(path), "/tmp/fuzz-conf.%ld",
		    (long)getpid());
	}
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if ((c = conf_load(path, NULL, 0, err, sizeof(err))) != NULL)
		conf_free(&c);
	unlink(path);
	return 0;
}
