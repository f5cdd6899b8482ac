#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/dns.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "conf.h"

#define CONF_MAX_LINE	4096
#define CONF_MAX_SIZE	(1024 * 1024)

static void *
conf_field(struct conf *conf, const struct conf_key *k)
{
	return (char *)conf + k->off;
}

static const void *
conf_cfield(const struct conf *conf, const struct conf_key *k)
{
	return (const char *)conf + k->off;
}

static const struct conf_key *
conf_key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

static int
conf_section_known(const char *section)
{
	size_t i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].section, section) == 0)
			return 1;
	return 0;
}

static const char *
conf_number_syntax(enum conf_type type)
{
	return type == CONF_SIZE ? "bad size (use e.g. 512k, 35M)" :
	    type == CONF_TIME ? "bad duration (use e.g. 30s, 5m, 4h, 5d)" :
	    "not a number";
}

/* Decimal number with an optional unit suffix; -1 on bad syntax. */
static int
conf_parse_number(const char *v, enum conf_type type, long long *out,
    const char **why)
{
	unsigned long long n;
	long long mult = 1;
	char *end;

	if (!isdigit((unsigned char)v[0])) {
		*why = conf_number_syntax(type);
		return -1;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || n > LLONG_MAX) {
		*why = "number out of range";
		return -1;
	}
	if (type == CONF_SIZE && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mult = 1024; end++; break;
		case 'm': case 'M': mult = 1024 * 1024; end++; break;
		case 'g': case 'G': mult = 1024LL * 1024 * 1024; end++; break;
		}
	} else if (type == CONF_TIME && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 's': mult = 1; end++; break;
		case 'm': mult = 60; end++; break;
		case 'h': mult = 3600; end++; break;
		case 'd': mult = 86400; end++; break;
		}
	}
	if (*end != '\0') {
		*why = conf_number_syntax(type);
		return -1;
	}
	if (n > (unsigned long long)(LLONG_MAX / mult)) {
		*why = "number out of range";
		return -1;
	}
	*out = (long long)n * mult;
	return 0;
}

int
conf_listen_next(const char **pp, char *host, size_t hostsize, char *port,
    size_t portsize)
{
	const char *p = *pp, *start, *colon;
	size_t hlen, plen;

	while (*p == ' ' || *p == ',' || *p == '\t')
		p++;
	if (*p == '\0')
		return -1;
	start = p;
	while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
		p++;
	*pp = p;
	if (*start == '[') {		/* [v6]:port */
		const char *rb = memchr(start, ']', p - start);

		if (rb == NULL || rb + 1 >= p || rb[1] != ':')
			return -2;
		start++;
		hlen = rb - start;
		colon = rb + 1;
	} else {
		colon = NULL;
		for (const char *q = start; q < p; q++)
			if (*q == ':')
				colon = q;
		if (colon == NULL)
			return -2;
		hlen = colon - start;
		if (memchr(start, ':', hlen) != NULL)
			return -2;	/* bare IPv6 must be bracketed */
	}
	plen = p - colon - 1;
	if (hlen == 0 || hlen >= hostsize || plen == 0 || plen >= portsize)
		return -2;
	memcpy(host, start, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, plen);
	port[plen] = '\0';
	for (size_t i = 0; i < plen; i++)
		if (!isdigit((unsigned char)port[i]))
			return -2;
	if (atoi(port) < 1 || atoi(port) > 65535)
		return -2;
	return 0;
}

static int
conf_check_listen(const char *v, const char **why)
{
	char host[256], port[16];
	const char *p = v;
	int r;

	while ((r = conf_listen_next(&p, host, sizeof(host), port,
	    sizeof(port))) == 0)
		;
	if (r == -2) {
		*why = "expected host:port or [ipv6]:port, separated by commas";
		return -1;
	}
	return 0;
}

static int
conf_set(struct conf *conf, const struct conf_key *k, const char *value,
    const char **why)
{
	void *field = conf_field(conf, k);
	char abs[PATH_MAX], real[PATH_MAX];
	long long n;

	if (k->check != NULL && k->check(value, why) == -1)
		return -1;
	switch (k->type) {
	case CONF_STR:
	case CONF_LISTEN:
	case CONF_PATH:
		if (k->type == CONF_LISTEN && conf_check_listen(value, why) == -1)
			return -1;
		if (strlen(value) > 1024) {
			*why = "value too long";
			return -1;
		}
		free(*(char **)field);
		*(char **)field = NULL;
		if (k->type == CONF_PATH && value[0] != '/' && value[0] != '\0') {
			char cwd[PATH_MAX];
			const char *rel = value;

			if (getcwd(cwd, sizeof(cwd)) == NULL) {
				*why = "cannot resolve a relative path";
				return -1;
			}
			while (strncmp(rel, "./", 2) == 0)
				rel += 2;
			if (util_snprintf(abs, sizeof(abs), "%s/%s", cwd,
			    rel) == -1) {
				*why = "path too long";
				return -1;
			}
			value = abs;
		}
		/* Where it exists, its real name: a symbolic link in the
		 * way (run/ made a link by tools/run-dev) is resolved once,
		 * so every process reaches the same place. */
		if (k->type == CONF_PATH && value[0] != '\0' &&
		    realpath(value, real) != NULL)
			value = real;
		*(char **)field = util_strdup(value);
		return 0;
	case CONF_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") ||
		    !strcmp(value, "on") || !strcmp(value, "1"))
			*(int *)field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") ||
		    !strcmp(value, "off") || !strcmp(value, "0"))
			*(int *)field = 0;
		else {
			*why = "expected yes or no";
			return -1;
		}
		return 0;
	case CONF_INT:
	case CONF_SIZE:
	case CONF_TIME:
		if (conf_parse_number(value, k->type, &n, why) == -1)
			return -1;
		if (n < k->min || n > k->max) {
			static char range[128];

			snprintf(range, sizeof(range),
			    "out of range (%lld..%lld)", k->min, k->max);
			*why = range;
			return -1;
		}
		*(long long *)field = n;
		return 0;
	}
	*why = "bad key type";
	return -1;
}

static int
conf_defaults(struct conf *conf, char *err, size_t errsize)
{
	char host[256];
	const char *why;
	size_t i;

	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *def = k->def;

		if (def == NULL) {	/* computed: only the host name */
			if (gethostname(host, sizeof(host)) == -1)
				util_strcpy(host, "localhost", sizeof(host));
			host[sizeof(host) - 1] = '\0';
			def = host;
		}
		if (conf_set(conf, k, def, &why) == -1) {
			snprintf(err, errsize, "default of %s.%s: %s",
			    k->section, k->name, why);
			return -1;
		}
	}
	return 0;
}

static int
conf_parse(struct conf *conf, const char *path, char *text, char *err,
    size_t errsize)
{
	unsigned char *seen;
	char section[64] = "", *line, *next, *eq, *key, *value, *hash;
	const struct conf_key *k;
	const char *why;
	int lineno = 0, r = -1;

	seen = util_calloc(conf_nkeys, 1);
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) > CONF_MAX_LINE) {
			snprintf(err, errsize, "%s:%d: line too long", path,
			    lineno);
			goto out;
		}
		/* A comment starts a line or follows a blank. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		line = util_trim(line);
		if (*line == '\0')
			continue;
		if (*line == '[') {
			size_t len = strlen(line);

			if (line[len - 1] != ']' || len - 2 >= sizeof(section) ||
			    len < 3) {
				snprintf(err, errsize, "%s:%d: bad section "
				    "header", path, lineno);
				goto out;
			}
			memcpy(section, line + 1, len - 2);
			section[len - 2] = '\0';
			if (!conf_section_known(section)) {
				snprintf(err, errsize, "%s:%d: unknown section "
				    "[%s]", path, lineno, log_str(section));
				goto out;
			}
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errsize, "%s:%d: expected key = value",
			    path, lineno);
			goto out;
		}
		*eq = '\0';
		key = util_trim(line);
		value = util_trim(eq + 1);
		if (section[0] == '\0') {
			snprintf(err, errsize, "%s:%d: key '%s' outside any "
			    "[section]", path, lineno, log_str(key));
			goto out;
		}
		if ((k = conf_key_find(section, key)) == NULL) {
			snprintf(err, errsize, "%s:%d: unknown key '%s' in "
			    "section [%s]", path, lineno, log_str(key), section);
			goto out;
		}
		if (seen[k - conf_keys]++) {
			snprintf(err, errsize, "%s:%d: duplicate key '%s' in "
			    "section [%s]", path, lineno, key, section);
			goto out;
		}
		if (conf_set(conf, k, value, &why) == -1) {
			snprintf(err, errsize, "%s:%d: %s.%s = '%s': %s", path,
			    lineno, section, key, log_str(value), why);
			goto out;
		}
	}
	r = 0;
out:
	free(seen);
	return r;
}

static int
conf_override(struct conf *conf, const char *arg, char *err, size_t errsize)
{
	char name[128], *dot, *eq;
	const struct conf_key *k;
	const char *why;

	if ((eq = strchr(arg, '=')) == NULL || (size_t)(eq - arg) >=
	    sizeof(name)) {
		snprintf(err, errsize, "-o %s: expected section.key=value",
		    log_str(arg));
		return -1;
	}
	memcpy(name, arg, eq - arg);
	name[eq - arg] = '\0';
	if ((dot = strchr(name, '.')) == NULL) {
		snprintf(err, errsize, "-o %s: expected section.key=value",
		    log_str(arg));
		return -1;
	}
	*dot = '\0';
	if ((k = conf_key_find(name, dot + 1)) == NULL) {
		snprintf(err, errsize, "-o %s: unknown key %s.%s", log_str(arg),
		    log_str(name), log_str(dot + 1));
		return -1;
	}
	if (conf_set(conf, k, eq + 1, &why) == -1) {
		snprintf(err, errsize, "-o %s: %s", log_str(arg), why);
		return -1;
	}
	return 0;
}

struct conf *
conf_load(const char *path, char *const *overrides, size_t noverrides,
    char *err, size_t errsize)
{
	struct conf *conf = util_calloc(1, sizeof(*conf));
	char *text;
	size_t i;

	if (conf_defaults(conf, err, errsize) == -1)
		goto fail;
	if (path != NULL) {
		if ((text = util_read_file(path, CONF_MAX_SIZE, NULL)) == NULL) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (conf_parse(conf, path, text, err, errsize) == -1) {
			free(text);
			goto fail;
		}
		free(text);
	}
	for (i = 0; i < noverrides; i++)
		if (conf_override(conf, overrides[i], err, errsize) == -1)
			goto fail;
	return conf;
fail:
	conf_free(&conf);
	return NULL;
}

void
conf_free(struct conf **confp)
{
	struct conf *conf = *confp;
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->type == CONF_STR || k->type == CONF_PATH ||
		    k->type == CONF_LISTEN)
			free(*(char **)conf_field(conf, k));
	}
	free(conf);
	*confp = NULL;
}

static void
conf_format(const struct conf *conf, const struct conf_key *k, char *buf,
    size_t size)
{
	const void *field = conf_cfield(conf, k);

	switch (k->type) {
	case CONF_STR:
	case CONF_PATH:
	case CONF_LISTEN:
		snprintf(buf, size, "%s", *(char *const *)field);
		break;
	case CONF_BOOL:
		snprintf(buf, size, "%s", *(const int *)field ? "yes" : "no");
		break;
	default:
		snprintf(buf, size, "%lld", *(const long long *)field);
		break;
	}
}

int
conf_get(const struct conf *conf, const char *name, char *buf, size_t size)
{
	char sec[64];
	const char *dot = strchr(name, '.');
	const struct conf_key *k;

	if (dot == NULL || (size_t)(dot - name) >= sizeof(sec))
		return -1;
	memcpy(sec, name, dot - name);
	sec[dot - name] = '\0';
	if ((k = conf_key_find(sec, dot + 1)) == NULL)
		return -1;
	conf_format(conf, k, buf, size);
	return 0;
}

void
conf_dump(const struct conf *conf, FILE *fp)
{
	char val[1100];
	size_t i;

	for (i = 0; i < conf_nkeys; i++) {
		conf_format(conf, &conf_keys[i], val, sizeof(val));
		fprintf(fp, "%s.%s = %s\n", conf_keys[i].section,
		    conf_keys[i].name, val);
	}
}

void
conf_describe(FILE *fp)
{
	const char *sec = "";
	size_t i;

	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(sec, k->section) != 0)
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", sec = k->section);
		fprintf(fp, "# %s\n%s = %s\n", k->doc, k->name,
		    k->def == NULL ? "(computed)" : k->def);
	}
}

struct dns *
conf_dns_open(const struct conf *conf, char *err, size_t errsize)
{
	return dns_open(conf->dns.resolver, (long)conf->dns.timeout * 1000,
	    (int)conf->dns.attempts, err, errsize);
}
