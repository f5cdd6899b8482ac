/*
 * The static files (webmail/static/), built into the program: the front
 * runs chrooted into an empty directory and opens no file.  Each is
 * served with an ETag made from its content.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "webmail.h"

/* The assembler copies the file in (.incbin, from the build's working
 * directory: the top of the checkout). */
#define ASSET_BLOB(sym, file)						\
	__asm__(".section .rodata\n"					\
	    ".balign 16\n"						\
	    ".global " #sym "\n" #sym ":\n"				\
	    ".incbin \"" file "\"\n"					\
	    ".global " #sym "_end\n" #sym "_end:\n"			\
	    ".byte 0\n"							\
	    ".previous\n");						\
	extern const unsigned char sym[], sym##_end[];

ASSET_BLOB(asset_app_css, "webmail/static/app.css")
ASSET_BLOB(asset_app_js, "webmail/static/app.js")

static struct asset assets[] = {
	{ "/static/app.css", "text/css; charset=utf-8", asset_app_css, 0,
	    NULL },
	{ "/static/app.js", "text/javascript; charset=utf-8", asset_app_js, 0,
	    NULL },
};
static const unsigned char *const ends[] = { asset_app_css_end,
    asset_app_js_end };
static char etags[sizeof(assets) / sizeof(assets[0])][24];

const struct asset *
asset_find(const char *path)
{
	size_t i, k;
	uint64_t h;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(assets[i].path, path) != 0)
			continue;
		if (assets[i].etag == NULL) {
			assets[i].len = (size_t)(ends[i] - assets[i].data);
			/* FNV-1a: changes when the file does. */
			for (h = 14695981039346656037ULL, k = 0;
			    k < assets[i].len; k++)
				h = (h ^ assets[i].data[k]) * 1099511628211ULL;
			snprintf(etags[i], sizeof(etags[i]), "\"%016llx\"",
			    (unsigned long long)h);
			assets[i].etag = etags[i];
		}
		return &assets[i];
	}
	return NULL;
}
