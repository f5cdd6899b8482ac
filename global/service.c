#include <stddef.h>
#include <string.h>

#include "conf.h"
#include "service.h"

#define SERVICE_ROW(sec, prog, listen, tls, what) \
	{ #sec, prog, listen, tls, what, offsetof(struct conf, sec) },

const struct service service_table[] = { SERVICE_TABLE(SERVICE_ROW) };
const size_t service_count = sizeof(service_table) / sizeof(service_table[0]);

const struct service *
service_find(const char *name)
{
	size_t i;

	for (i = 0; i < service_count; i++)
		if (strcmp(service_table[i].name, name) == 0)
			return &service_table[i];
	return NULL;
}

int
service_of_program(const char *name, const char *program)
{
	const struct service *svc = service_find(name);

	return svc != NULL && strcmp(svc->program, program) == 0;
}

const char *
service_listen(const struct conf *conf, const struct service *svc)
{
	const struct conf_service *cs = (const struct conf_service *)
	    (const void *)((const char *)conf + svc->conf_off);

	return cs->listen != NULL ? cs->listen : "";
}
