/*
 * flags.c: message flags and keywords (RFC 3501 §2.3.2): parsing the
 * client's flag lists, writing ours, keyword lists as strings.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/log.h"
#include "session.h"

static const struct {
	const char	*name;
	unsigned int	 flag;
} system_flags[] = {
	{ "\\Seen", MF_SEEN }, { "\\Answered", MF_ANSWERED },
	{ "\\Flagged", MF_FLAGGED }, { "\\Deleted", MF_DELETED },
	{ "\\Draft", MF_DRAFT },
};
#define NSYSFLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

void
imap_put_flags(struct buf *b, unsigned int flags, const char *keywords,
    int recent)
{
	const char *sep = "";
	size_t i;

	buf_putc(b, '(');
	for (i = 0; i < NSYSFLAGS; i++)
		if (flags & system_flags[i].flag) {
			buf_printf(b, "%s%s", sep, system_flags[i].name);
			sep = " ";
		}
	if (recent) {
		buf_printf(b, "%s\\Recent", sep);
		sep = " ";
	}
	if (keywords != NULL && keywords[0] != '\0')
		buf_printf(b, "%s%s", sep, keywords);
	buf_putc(b, ')');
}

/* Is the keyword k (len octets) in the space-separated list?  Keywords
 * compare case-insensitively. */
int
keyword_in(const char *list, const char *k, size_t len)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == len && strncasecmp(p, k, n) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* Append to out each keyword of list not already there, nor in unless
 * (when given). */
static void
keywords_append(struct buf *out, const char *list, const char *unless)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 && (unless == NULL || !keyword_in(unless, p, n)) &&
		    !keyword_in(out->data, p, n)) {
			if (out->len > 0)
				buf_putc(out, ' ');
			buf_append(out, p, n);
		}
		p += n;
		p += strspn(p, " ");
	}
}

char *
keyword_combine(const char *a, const char *b, char op)
{
	struct buf out;

	buf_init(&out, 0);
	buf_puts(&out, "");
	keywords_append(&out, op == '=' ? b : a, op == '-' ? b : NULL);
	if (op == '+')
		keywords_append(&out, b, NULL);
	return buf_take(&out);
}

static int
keyword_add(struct buf *kw, const char *k)
{
	/* Keep the first spelling. */
	if (keyword_in(kw->data, k, strlen(k)))
		return 0;
	if (kw->len > 0)
		buf_putc(kw, ' ');
	return buf_puts(kw, k);
}

static int
flag_one(const char *f, unsigned int *flags, struct buf *kw,
    const char **why)
{
	size_t i;

	if (f[0] == '\\') {
		for (i = 0; i < NSYSFLAGS; i++)
			if (strcasecmp(f, system_flags[i].name) == 0) {
				*flags |= system_flags[i].flag;
				return 0;
			}
		*why = "Unknown system flag";
		return -1;
	}
	if (!maildir_keyword_valid(f, strlen(f))) {
		*why = "Invalid keyword";
		return -1;
	}
	if (keyword_add(kw, f) == -1) {
		*why = "Too many keywords";
		return -1;
	}
	return 0;
}

int
imap_parse_flags(const struct imap_arg *a, unsigned int *flags,
    char **keywords, const char **why)
{
	struct buf kw;
	size_t i;

	*flags = 0;
	*keywords = NULL;
	buf_init(&kw, 4096);
	buf_puts(&kw, "");
	if (a->type == IMAP_ARG_LIST) {
		for (i = 0; i < a->nlist; i++)
			if (a->list[i].type != IMAP_ARG_ATOM ||
			    flag_one(a->list[i].str, flags, &kw, why) == -1) {
				if (a->list[i].type != IMAP_ARG_ATOM)
					*why = "Flags must be atoms";
				buf_release(&kw);
				return -1;
			}
	} else if (a->type != IMAP_ARG_ATOM ||
	    flag_one(a->str, flags, &kw, why) == -1) {
		if (a->type != IMAP_ARG_ATOM)
			*why = "Flags must be atoms";
		buf_release(&kw);
		return -1;
	}
	*keywords = buf_take(&kw);
	return 0;
}
