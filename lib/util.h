/*
 * util: small helpers every program uses: random ids, time, careful
 * file-system operations (full writes, directory fsync), strings.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SESSION_ID_LEN	10

/* A short random session id for log lines. */
void	util_session_id(char buf[SESSION_ID_LEN + 1]);
uint32_t util_random(void);

int64_t	util_now_usec(void);
/* The wall clock in nanoseconds, as file times are kept (CLOCK_REALTIME). */
int64_t	util_now_nsec(void);
double	util_now(void);		/* seconds, with fraction */

/* write(2) until done; 0 or -1 with errno. */
int	util_write_all(int fd, const void *data, size_t len);
/* fsync the directory holding path (or path itself if it is a dir). */
int	util_fsync_dir(const char *dirpath);
/* mkdir -p; 0 or -1 with errno.  Existing directories are fine. */
int	util_mkdir_p(const char *path, mode_t mode);
/* Read a whole file, NUL-terminated; caller frees.  NULL with errno
 * (EFBIG: more than max octets; ENOMEM; the system's). */
char	*util_read_file(const char *path, size_t max, size_t *len_r);
/* The same from an open descriptor, from where it stands to its end. */
char	*util_read_fd(int fd, size_t max, size_t *len_r);

/* snprintf that reports truncation: 0, or -1 when it did not fit. */
int	util_snprintf(char *dst, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Copy with truncation check (strlcpy semantics, -1 when cut). */
int	util_strcpy(char *dst, const char *src, size_t size);
/* A decimal number at the start of s (a digit first, no sign, no
 * space): where it ends, or NULL (none, or over 2^64 - 1). */
const char *util_decimal(const char *s, uint64_t *v);
void	util_lower(char *s);
void	util_upper(char *s);
char	*util_strdup(const char *s);	/* fatal on ENOMEM */
char	*util_strdup_null(const char *s);	/* NULL stays NULL */
void	*util_calloc(size_t n, size_t size);	/* fatal on ENOMEM */
void	*util_reallocarray(void *p, size_t n, size_t size);	/* same */
/* Strip leading and trailing blanks in place. */
char	*util_trim(char *s);
/* RFC 5322 date-time for now, e.g. "Mon, 23 Nov 2026 12:00:00 +0000". */
void	util_rfc5322_date(char *buf, size_t size, time_t t);
/* The directory this executable lives in (for finding sibling programs). */
const char *util_exe_dir(void);

#endif
