/* libFuzzer target: the IMAP URLs of URLAUTH and BURL (imapd/imapurl.c,
 * RFC 5092 §11, RFC 4467 §9).  What a URL that parses says is checked,
 * not just survived: its rump within it and ending where the access
 * does, a UID, a mailbox the store would take, a token of 128 bits or
 * more when it is authorized, a sane PARTIAL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../imapd/imapurl.h"
#include "fuzz.h"

static void
check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct urlauth_url u;
	const char *why;
	char *url;

	if (size > URLAUTH_URL_MAX + 16)
		return 0;
	url = malloc(size + 1);
	memcpy(url, data, size);
	url[size] = '\0';
	if (imapurl_parse(url, size, &u) == 0) {
		check(size <= URLAUTH_URL_MAX && strlen(url) == size);
		check(u.rump_len > 0 && u.rump_len <= size);
		check(u.authorized ? url[u.rump_len] == ':' :
		    u.rump_len == size);
		check(u.uid != 0 && u.user[0] != '\0' && u.host[0] != '\0');
		check(strcmp(u.mailbox, "INBOX") == 0 ||
		    maildir_name_valid(u.mailbox, &why) == 0);
		check(u.access != URLA_NONE);
		check(!u.authorized || (u.token_len >= 16 &&
		    u.token_len <= URLKEY_LEN && u.mech[0] != '\0'));
		check(!u.partial || u.length > 0);
		check(u.expire >= 0);
		(void)imapurl_is_user(u.user, u.host, "joe@example.com");
		(void)imapurl_is_user(u.access_user, u.host, u.user);
	}
	free(url);
	return 0;
}
