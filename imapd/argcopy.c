/*
 * An argument kept past its command (NOTIFY's MessageNew attributes,
 * a search context's UPDATE attributes): a deep copy, owned by whoever
 * keeps it, which frees it with imap_arg_dup_free().
 */
#include <stdlib.h>
#include <string.h>

#include "notify.h"

static void
arg_free(struct imap_arg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nlist; i++)
		arg_free(&a->list[i]);
	free(a->list);
	free(a->str);
}

static void
arg_copy(struct imap_arg *to, const struct imap_arg *from)
{
	size_t i;

	*to = *from;
	to->str = NULL;
	to->list = NULL;
	if (from->str != NULL) {
		to->str = util_calloc(1, from->len + 1);
		memcpy(to->str, from->str, from->len);
	}
	if (from->nlist > 0) {
		to->list = util_calloc(from->nlist, sizeof(*to->list));
		for (i = 0; i < from->nlist; i++)
			arg_copy(&to->list[i], &from->list[i]);
	}
}

struct imap_arg *
imap_arg_dup(const struct imap_arg *a)
{
	struct imap_arg *d = util_calloc(1, sizeof(*d));

	arg_copy(d, a);
	return d;
}

void
imap_arg_dup_free(struct imap_arg **a)
{
	if (*a != NULL) {
		arg_free(*a);
		free(*a);
	}
	*a = NULL;
}
