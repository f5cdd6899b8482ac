#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

#include "log.h"

static const char	*log_prog = "maild";
static enum log_level	 log_min = LOG_LVL_INFO;
static int		 log_syslog;

void
log_init(const char *progname, enum log_level level, int use_syslog)
{
	log_prog = progname;
	log_min = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

int
log_level_parse(const char *s, enum log_level *level_r)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	return -1;
}

static void
log_vemit(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *tags[] = { "debug: ", "", "warning: ", "error: " };
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
	char line[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	int n, m;

	if (level < log_min)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (suffix != NULL) {
		m = snprintf(line + n, sizeof(line) - n, "%s", suffix);
		if (m > 0)
			n = (size_t)(n + m) >= sizeof(line) ?
			    (int)sizeof(line) - 1 : n + m;
	}
	if (log_syslog) {
		syslog(prio[level], "%s%s", tags[level], line);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	{
		char out[2200];
		int len = snprintf(out, sizeof(out), "%s.%03ldZ %s[%ld]: %s%s\n",
		    stamp, (long)tv.tv_usec / 1000, log_prog, (long)getpid(),
		    tags[level], line);
		ssize_t w;

		if (len < 0)
			return;
		if ((size_t)len >= sizeof(out)) {
			len = sizeof(out) - 1;
			out[len - 1] = '\n';
		}
		do
			w = write(STDERR_FILENO, out, len);
		while (w < 0 && errno == EINTR);
	}
}

#define LOG_FN(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	int saved = errno;				\
							\
	va_start(ap, fmt);				\
	log_vemit(level, fmt, ap, NULL);		\
	va_end(ap);					\
	errno = saved;					\
}

LOG_FN(log_debug, LOG_LVL_DEBUG)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_err, LOG_LVL_ERR)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, fmt, ap, suffix);
	va_end(ap);
	exit(1);
}

char *
log_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (dstsize == 0)
		return dst;
	for (i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;

		if (o + need + 4 > dstsize) {	/* room for "...\0" */
			if (o + 4 <= dstsize) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1)
			dst[o++] = (char)c;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

const char *
log_str(const char *s)
{
	static char bufs[4][256];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	if (s == NULL)
		return "(none)";
	return log_escape(b, sizeof(bufs[0]), s, strlen(s));
}
