/* What the file-reading fuzz targets share. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "../lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Write the input to a per-process temporary file and return its path
 * (NULL if it cannot be written).  Logging is quieted on first use:
 * warnings about bad input are the expected outcome.
 */
static inline const char *
fuzz_tmpfile(const char *name, const uint8_t *data, size_t size)
{
	static char path[64];
	FILE *fp;

	if (path[0] == '\0') {
		log_init("fuzz", LOG_LVL_ERR, 0);
		snprintf(path, sizeof(path), "/tmp/fuzz-%s.%ld", name,
		    (long)getpid());
	}
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	fwrite(data, 1, size, fp);
	fclose(fp);
	return path;
}

#endif
