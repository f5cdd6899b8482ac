/*
 * log: one line per event, key=value, to stderr (maild collects it) or
 * syslog.  Each line goes out in a single write(2) so lines from many
 * processes sharing one stderr never interleave.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

void	log_init(const char *progname, enum log_level level, int use_syslog);
void	log_set_level(enum log_level level);
int	log_level_parse(const char *s, enum log_level *level_r);
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup errors and bugs only: log and exit(1).  Bad input never gets here. */
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* As fatalx, with ": strerror(errno)" appended. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy untrusted bytes for logging: printable ASCII stays, everything else
 * becomes \xNN, and the result is cut at dstsize - 1 with "..." marking the
 * cut.  Returns dst.
 */
char	*log_escape(char *dst, size_t dstsize, const char *src, size_t srclen);
/* log_escape of a NUL-terminated string into a static 256-byte buffer
 * (one of four rotating, so up to four may appear in one log call). */
const char *log_str(const char *s);

#endif
