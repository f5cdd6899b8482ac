/*
 * casemap: the i;unicode-casemap comparator (RFC 5051), the one that
 * IMAP's I18NLEVEL=1 (RFC 5255 §4.1) makes SEARCH, SORT and THREAD use.
 * A string is compared through its "titlecased canonicalized UTF-8"
 * form: each character replaced by its simple titlecase mapping
 * (UnicodeData.txt), then decomposed to NFKD; substrings and order are
 * those of the forms' octets.  Both sides of a match go through
 * casemap_fold(): a needle once, a text each time it is read.
 *
 * The Unicode data is libunistring's (uc_totitle(), the NFKD filter of
 * uninorm.h), not tables of our own.
 */
#ifndef CASEMAP_H
#define CASEMAP_H

#include <stddef.h>

/*
 * The form never grows past CASEMAP_GROWTH times the input plus
 * CASEMAP_SLACK octets; a text that would (only one of compatibility
 * ligatures such as U+FDFA, which NFKD makes 18 characters) is cut
 * there, between characters.  Ordinary text grows at most 3 times
 * (a Hangul syllable into its jamo).
 */
#define CASEMAP_GROWTH	4
#define CASEMAP_SLACK	4096

/*
 * s (len octets) in its i;unicode-casemap form; malloc'd, NUL-terminated,
 * *outlen (unless NULL) its length.  ASCII is upper-cased in place of the
 * Unicode round (the titlecase of 'a' is 'A', and ASCII does not
 * decompose).  Octets that are not UTF-8 (a lone 0xff, a truncated or
 * overlong sequence, a surrogate) are kept as they are, one by one:
 * RFC 5051 §2 treats what cannot be converted to Unicode as binary, and
 * doing so octet by octet keeps the valid text around them
 * case-insensitive.
 */
char	*casemap_fold_n(const char *s, size_t len, size_t *outlen);
/* The same for a C string. */
char	*casemap_fold(const char *s);

/*
 * The comparators IMAP's COMPARATOR command chooses between (RFC 5255
 * §4.7), all of which compare two strings as the octets of their forms
 * (substring for SEARCH, order for SORT and THREAD):
 * i;unicode-casemap (RFC 5051) as above, the default; i;ascii-casemap
 * (RFC 4790 §9.2: a-z as A-Z, every other octet as itself); i;octet
 * (RFC 4790 §9.3: the octets themselves).
 */
enum comparator {
	CMP_UNICODE_CASEMAP = 0,
	CMP_ASCII_CASEMAP,
	CMP_OCTET,
	CMP_COUNT
};
#define CMP_DEFAULT	CMP_UNICODE_CASEMAP

/* "i;unicode-casemap", ... */
const char *comparator_name(enum comparator c);
/*
 * Whether name (an RFC 4790 §3.1 collation name) is c: case-insensitive,
 * each '*' of pattern (RFC 4790 §3.2's wildcard) standing for any
 * run of characters.  Bounded: a pattern of more than
 * COMPARATOR_PATTERN_MAX octets matches nothing.
 */
#define COMPARATOR_PATTERN_MAX	255
int	comparator_match(const char *pattern, enum comparator c);
/* s (len octets) in c's form, as casemap_fold_n() does for
 * i;unicode-casemap. */
char	*comparator_fold_n(enum comparator c, const char *s, size_t len,
	    size_t *outlen);
char	*comparator_fold(enum comparator c, const char *s);

#endif
