/* libFuzzer target: RFC 5321 paths and ESMTP parameters (lib/addr.c),
 * exactly as MAIL FROM:/RCPT TO: arguments reach them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../global/addr.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailaddr a;
	const char *rest, *why;
	char *s, *p, *params, *k, *v, out[600];
	int flags;

	if (size == 0 || size > 4096)
		return 0;
	flags = data[0] & 7;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (addr_parse_path(s, flags, &a, &rest, &why) == 0) {
		addr_format(&a, out, sizeof(out));
		p = params = strdup(rest);
		for (int i = 0; i < 100 && addr_next_param(&p, &k, &v) == 1;
		    i++)
			;
		free(params);
		(void)addr_is_null(&a);
	}
	if (addr_parse(s, &a, &why) == 0)
		(void)addr_local_is_mailbox_safe(a.local);
	(void)addr_domain_valid(s);
	free(s);
	return 0;
}
