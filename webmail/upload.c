/*
 * A form with files (multipart/form-data, RFC 7578), as the compose
 * page posts its attachments.  The front passes the body as it came, in
 * an anonymous memory file, once the session and its CSRF token (in the
 * form's URL) are checked; the session's process parses it here with
 * GMime (the shared MIME library; no parser of our own).  Not in the
 * front: GMime converts the charsets of file names with iconv, which
 * loads modules from /usr, and the front can open no file (the session's
 * process may read /usr).  The text fields become the request's
 * parameters; the files are written one after the other into a new
 * memory file, each named by a parameter "att" = "<offset> <length>
 * <type> <name>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <gmime/gmime.h>

#include "../global/mime.h"
#include "webmail.h"

struct upload {
	void			(*field)(const char *, const char *, void *);
	void			*arg;
	int			 fd;
	size_t			 off;
	size_t			 files;
	int			 failed;
};

/* A part's type, and a file name safe to show and to put in a header. */
static void
file_meta(GMimeObject *part, char *type, size_t tsize, char *name,
    size_t nsize)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *fn = GMIME_IS_PART(part) ?
	    g_mime_part_get_filename(GMIME_PART(part)) : NULL;
	char *mt = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	size_t i;

	snprintf(type, tsize, "%s", mt != NULL && strchr(mt, ' ') == NULL &&
	    strlen(mt) < tsize ? mt : "application/octet-stream");
	g_free(mt);
	snprintf(name, nsize, "%s", fn != NULL && fn[0] != '\0' ? fn :
	    "attachment");
	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == '/' ||
		    name[i] == '\\' || name[i] == 0x7f)
			name[i] = '_';
	if (!web_utf8_valid(name, strlen(name)))
		snprintf(name, nsize, "attachment");
}

static void
upload_part(GMimeObject *parent, GMimeObject *part, gpointer arg)
{
	struct upload *u = arg;
	GMimeContentDisposition *cd;
	GMimeDataWrapper *w;
	GMimeStream *mem;
	GByteArray *arr;
	const char *field;
	char type[128], name[256], line[512];
	ssize_t n;
	size_t done;

	(void)parent;
	if (u->failed || !GMIME_IS_PART(part))
		return;
	cd = g_mime_object_get_content_disposition(part);
	field = cd != NULL ? g_mime_content_disposition_get_parameter(cd,
	    "name") : NULL;
	if (field == NULL || (w = g_mime_part_get_content(GMIME_PART(part)))
	    == NULL)
		return;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) < 0) {
		g_object_unref(mem);
		u->failed = 1;
		return;
	}
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (g_mime_part_get_filename(GMIME_PART(part)) == NULL) {
		/* A text field (an empty one has no data at all). */
		char *v = arr->len > 0 ? g_strndup((const char *)arr->data,
		    arr->len) : g_strdup("");

		if ((arr->len > 0 && memchr(arr->data, '\0', arr->len) !=
		    NULL) ||
		    !web_utf8_valid(v, arr->len) ||
		    !web_utf8_valid(field, strlen(field)))
			u->failed = 1;
		else
			u->field(field, v, u->arg);
		g_free(v);
	} else if (arr->len > 0) {
		/* A file: into the memory file. */
		if (++u->files > WEB_MAX_FILES) {
			u->failed = 1;
			g_object_unref(mem);
			return;
		}
		file_meta(part, type, sizeof(type), name, sizeof(name));
		for (done = 0; done < arr->len; done += (size_t)n)
			if ((n = write(u->fd, arr->data + done, arr->len -
			    done)) <= 0) {
				u->failed = 1;
				break;
			}
		snprintf(line, sizeof(line), "%zu %u %s %s", u->off, arr->len,
		    type, name);
		u->off += arr->len;
		u->field("att", line, u->arg);
	}
	g_object_unref(mem);
}

int
upload_parse(const char *content_type, const char *body, size_t len,
    void (*field)(const char *name, const char *value, void *arg),
    void *arg, int *fd_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeObject *obj;
	struct upload u;
	char *head;
	size_t hlen;

	*fd_r = -1;
	if (strlen(content_type) > 1000 || strpbrk(content_type, "\r\n") !=
	    NULL)
		return -1;
	memset(&u, 0, sizeof(u));
	u.field = field;
	u.arg = arg;
	if ((u.fd = memfd_create("upload", MFD_CLOEXEC)) == -1)
		return -1;
	mime_init();
	/* The body as a MIME entity: its type is the request's. */
	hlen = strlen(content_type) + 20;
	head = g_malloc(hlen + len);
	snprintf(head, hlen, "Content-Type: %s\r\n\r\n", content_type);
	hlen = strlen(head);
	memcpy(head + hlen, body, len);
	stream = g_mime_stream_mem_new_with_buffer(head, hlen + len);
	g_free(head);
	parser = g_mime_parser_new_with_stream(stream);
	obj = g_mime_parser_construct_part(parser, NULL);
	if (obj == NULL || !GMIME_IS_MULTIPART(obj))
		u.failed = 1;
	else
		g_mime_multipart_foreach(GMIME_MULTIPART(obj), upload_part,
		    &u);
	if (obj != NULL)
		g_object_unref(obj);
	g_object_unref(parser);
	g_object_unref(stream);
	if (u.failed) {
		close(u.fd);
		return -1;
	}
	*fd_r = u.fd;
	return 0;
}
