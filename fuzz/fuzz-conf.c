/* libFuzzer target: the configuration parser (lib/conf.c). */
#include "../global/conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile("conf", data, size);
	char err[512];
	struct conf *c;

	if (path == NULL)
		return 0;
	if ((c = conf_load(path, NULL, 0, err, sizeof(err))) != NULL)
		conf_free(&c);
	unlink(path);
	return 0;
}
