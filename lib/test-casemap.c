/*
 * i;unicode-casemap (RFC 5051): the RFC's own example, what clients
 * search for (accents either way, Greek, Cyrillic, fullwidth letters,
 * ligatures, sharp s), octets that are not UTF-8, and the bound.
 */
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "casemap.h"
#include "../t/tap.h"

/* Does s fold to want? */
static int
is(const char *s, const char *want)
{
	char *f = casemap_fold(s);
	int r = strcmp(f, want) == 0;

	if (!r) {
		diag("casemap(%s):", s);
		for (size_t i = 0; f[i] != '\0'; i++)
			printf(" %02x", (unsigned char)f[i]);
		printf("\n");
	}
	free(f);
	return r;
}

/* Do a and b fold alike? */
static int
same(const char *a, const char *b)
{
	char *fa = casemap_fold(a), *fb = casemap_fold(b);
	int r = strcmp(fa, fb) == 0;

	free(fa);
	free(fb);
	return r;
}

/* Is needle's form in text's (SEARCH's substring)? */
static int
in(const char *needle, const char *text)
{
	char *fn = casemap_fold(needle), *ft = casemap_fold(text);
	int r = strstr(ft, fn) != NULL;

	free(fn);
	free(ft);
	return r;
}

static int
order(const char *a, const char *b)
{
	char *fa = casemap_fold(a), *fb = casemap_fold(b);
	int r = strcmp(fa, fb);

	free(fa);
	free(fb);
	return r < 0 ? -1 : r > 0;
}

static void
test_rfc(void)
{
	/* RFC 5051 §2's example: U+01C4 titlecases to U+01C5, which
	 * decomposes to D and U+017E, which decomposes to z U+030C. */
	ok(is("\xc7\x84", "Dz\xcc\x8c"), "RFC 5051: U+01C4 -> D z U+030C");
	ok(same("\xc7\x84", "\xc7\x86") && same("\xc7\x85", "\xc7\x86"),
	    "DZ with caron: all three cases alike");
	ok(!same("\xc7\x84", "DZ\xcc\x8c"),
	    "but not the letters D, Z and a caron (the z stays small)");
	/* i;ascii-casemap for ASCII: upper case */
	ok(is("Hello, World_[x]", "HELLO, WORLD_[X]"), "ASCII: upper-cased");
	ok(order("aab", "a_b") < 0 && order("A_B", "aab") > 0,
	    "order by the upper-cased octets: AAB before A_B");
	ok(is("", ""), "the empty string");
}

static void
test_client_cases(void)
{
	/* é precomposed, e + U+0301, É: one form */
	ok(is("caf\xc3\xa9", "CAFE\xcc\x81"), "é -> E U+0301");
	ok(same("caf\xc3\xa9", "cafe\xcc\x81") &&
	    same("caf\xc3\xa9", "CAF\xc3\x89"), "é, e+U+0301 and É alike");
	ok(in("cafe", "Caf\xc3\xa9 au lait") &&
	    !in("cafe au", "Caf\xc3\xa9 au lait"),
	    "cafe is in Café (the accent follows), cafe au is not");
	/* two marks in either order (canonical ordering of NFKD) */
	ok(same("\xc3\xa9\xcc\xa3", "e\xcc\xa3\xcc\x81"),
	    "é + dot below = e + dot below + acute");
	/* sharp s: no simple titlecase, no decomposition */
	ok(is("Stra\xc3\x9f" "e", "STRA\xc3\x9f" "E"), "ß stays ß");
	ok(in("stra\xc3\x9f" "e", "STRASSE STRA\xc3\x9f" "E") &&
	    !in("strasse", "Stra\xc3\x9f" "e") &&
	    !same("\xc3\x9f", "\xe1\xba\x9e"),
	    "straße finds STRAßE, strasse does not find Straße, ß is not ẞ");
	/* Greek: case, final sigma; the tonos decomposes */
	ok(is("\xce\x86\xce\xbd\xce\xbd\xce\xb1",
	    "\xce\x91\xcc\x81\xce\x9d\xce\x9d\xce\x91"),
	    "Άννα -> Α U+0301 ΝΝΑ");
	ok(in("\xce\xac\xce\xbd\xce\xbd\xce\xb1",
	    "\xce\x86\xce\x9d\xce\x9d\xce\x91") &&
	    !in("\xce\x91\xce\x9d\xce\x9d\xce\x91",
	    "\xce\x86\xce\xbd\xce\xbd\xce\xb1") &&
	    in("\xce\x9d\xce\x9d\xce\x91", "\xce\x86\xce\xbd\xce\xbd\xce\xb1"),
	    "άννα finds ΆΝΝΑ; ΑΝΝΑ does not find Άννα (the accent is "
	    "between), ΝΝΑ does");
	ok(same("\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\xa5"
	    "\xce\xa3", "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5"
	    "\xcf\x85\xcf\x82"), "ΟΔΥΣΣΕΥΣ = οδυσσευς (final sigma)");
	/* Cyrillic */
	ok(same("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2",
	    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"),
	    "ПРИВЕТ = привет");
	ok(is("\xd1\x91", "\xd0\x95\xcc\x88") && same("\xd1\x91", "\xd0\x81"),
	    "ё -> Е U+0308, as Ё");
	/* fullwidth letters: NFKD makes them ASCII, after titlecase */
	ok(is("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "ABC") &&
	    is("\xef\xbd\x81\xef\xbd\x82\xef\xbd\x83", "ABC") &&
	    in("abc", "x\xef\xbd\x81\xef\xbd\x82\xef\xbd\x83y"),
	    "ＡＢＣ and ａｂｃ -> ABC; abc finds them");
	/* ligatures: decomposed after the titlecase step, so small */
	ok(is("\xef\xac\x81", "fi") && is("\xef\xac\x83", "ffi"),
	    "ﬁ -> fi, ﬃ -> ffi (small letters: RFC 5051 titlecases first)");
	ok(!in("fi", "\xef\xac\x81nal") && in("\xef\xac\x81", "e\xef\xac\x83"),
	    "so fi does not find ﬁnal; ﬁ finds ﬃ");
	/* other letters */
	ok(is("\xc4\xb1", "I") && is("\xc4\xb0", "I\xcc\x87") &&
	    is("\xc5\xbf", "S") && is("\xe2\x84\xaa", "K"),
	    "ı -> I, İ -> I U+0307, ſ -> S, Kelvin -> K");
	/* titlecase mappings of characters that are not letters */
	ok(is("\xe2\x93\x90", "A") && is("\xe2\x85\xb0", "I"),
	    "circled a -> Ⓐ -> A, small Roman numeral one -> Ⅰ -> I");
	ok(is("\xed\x95\x9c", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"),
	    "Hangul 한 -> its jamo");
}

static void
test_invalid(void)
{
	char *f;
	size_t n;

	ok(is("a\xff" "b", "A\xff" "B"), "a lone 0xff kept");
	ok(is("\xc3(x", "\xc3(X"), "a lead octet without its tail kept");
	ok(is("x\xe2\x82", "X\xe2\x82"), "a sequence cut at the end kept");
	ok(is("\xc0\xaf" "a", "\xc0\xaf" "A"), "an overlong sequence kept");
	ok(is("\xed\xa0\x80" "a", "\xed\xa0\x80" "A"), "a surrogate kept");
	ok(is("\xc3\xa9\xff\xc3\xa9", "E\xcc\x81\xff" "E\xcc\x81"),
	    "the text around a bad octet still folded");
	f = casemap_fold_n("a\0b", 3, &n);
	ok(n == 3 && memcmp(f, "A\0B", 3) == 0, "a NUL is an octet too");
	free(f);
}

static void
test_bound(void)
{
	/* U+FDFA: 3 octets, 18 characters (33 octets) under NFKD */
	size_t reps = 10000, n, i;
	char *s = malloc(reps * 3 + 1), *f, *one;
	size_t onelen;

	for (i = 0; i < reps; i++)
		memcpy(s + i * 3, "\xef\xb7\xba", 3);
	s[reps * 3] = '\0';
	one = casemap_fold_n(s, 3, &onelen);
	ok(onelen == 33, "U+FDFA alone: 33 octets (%zu)", onelen);
	f = casemap_fold_n(s, reps * 3, &n);
	ok(n <= reps * 3 * CASEMAP_GROWTH + CASEMAP_SLACK && n > reps * 3,
	    "30,000 octets of U+FDFA: bounded, %zu octets", n);
	ok(u8_check((const uint8_t *)f, n) == NULL,
	    "cut between characters");
	for (i = 0; i < n && f[i] == one[i % onelen]; i++)
		;
	ok(i == n, "a prefix of the whole form");
	free(f);
	free(one);
	free(s);
}

/* The comparators of RFC 5255 §4.7 and their names (RFC 4790 §3). */
static void
test_comparators(void)
{
	char *f;

	f = comparator_fold(CMP_ASCII_CASEMAP, "Stra\xc3\x9f""e caf\xc3\xa9");
	ok(strcmp(f, "STRA\xc3\x9f""E CAF\xc3\xa9") == 0,
	    "i;ascii-casemap: a-z upper-cased, UTF-8 kept");
	free(f);
	f = comparator_fold(CMP_OCTET, "Stra\xc3\x9f""e");
	ok(strcmp(f, "Stra\xc3\x9f""e") == 0, "i;octet: the octets");
	free(f);
	f = comparator_fold(CMP_UNICODE_CASEMAP, "caf\xc3\xa9");
	ok(strcmp(f, "CAFE\xcc\x81") == 0, "i;unicode-casemap: casemap_fold");
	free(f);
	ok(comparator_match("i;octet", CMP_OCTET) &&
	    comparator_match("I;OCTET", CMP_OCTET) &&
	    !comparator_match("i;octe", CMP_OCTET), "names, case-insensitive");
	ok(comparator_match("i;*", CMP_OCTET) &&
	    comparator_match("*casemap", CMP_ASCII_CASEMAP) &&
	    comparator_match("*casemap", CMP_UNICODE_CASEMAP) &&
	    !comparator_match("*casemap", CMP_OCTET) &&
	    comparator_match("i;*-*map", CMP_ASCII_CASEMAP) &&
	    comparator_match("**", CMP_OCTET) &&
	    !comparator_match("cz;*", CMP_OCTET), "wildcards (RFC 4790 §3.2)");
	ok(strcmp(comparator_name(CMP_DEFAULT), "i;unicode-casemap") == 0,
	    "the default");
}

int
main(void)
{
	test_rfc();
	test_comparators();
	test_client_cases();
	test_invalid();
	test_bound();
	return done_testing();
}
