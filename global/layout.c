#include <errno.h>

#include "../lib/util.h"
#include "layout.h"

int
layout_path(char *buf, size_t size, const char *dir, const char *name)
{
	if (util_snprintf(buf, size, "%s/%s", dir, name) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
