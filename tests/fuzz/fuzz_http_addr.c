/*
 * fuzz_http_addr.c: libFuzzer target for how the CLI finds ocitapd
 * (lib/http-addr.h, lib/conf.h): the bytes as the http.addr file ocitapd
 * writes beside its socket (ocitap_http_addr_parse), and as a configuration
 * file the `http` key is looked up in (ocitap_conf_lookup), whose value is
 * then normalized as an address.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "http-addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An address taken is one line, within bounds, without a control
 * character, of a known form, and normalizing it again changes nothing. */
static void check_address(const char *addr)
{
	char again[OCITAP_HTTP_ADDR_MAX];
	size_t n = strlen(addr);

	if (n == 0 || n >= OCITAP_HTTP_ADDR_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)addr[i] < 0x20 || addr[i] == 0x7f)
			abort();
	if (strcmp(addr, "off") != 0 && strncmp(addr, "unix:/", 6) != 0 && !strchr(addr, ':'))
		abort();
	if (ocitap_http_addr_normalize(addr, again, sizeof(again), NULL) < 0 || strcmp(addr, again) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err = { 0 };
	char addr[OCITAP_HTTP_ADDR_MAX];
	const char *value;
	char *text;
	int r;

	r = ocitap_http_addr_parse((const char *)data, size, addr, sizeof(addr), &err);
	if (r == 0)
		check_address(addr);
	else if (r != err.code || !err.message[0])
		abort();

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err = (struct ocitap_error){ 0 };
	r = ocitap_conf_lookup(text, size, "fuzz.conf", "http", &value, &err);
	/* an error names the file and the line; a value found lies in the text */
	if (r < 0 && (r != -EINVAL || strncmp(err.field, "fuzz.conf:", 10) != 0))
		abort();
	if (r == 1) {
		if (value < text || value > text + size || value + strlen(value) > text + size)
			abort();
		if (ocitap_http_addr_normalize(value, addr, sizeof(addr), NULL) == 0)
			check_address(addr);
	}
	free(text);
	return 0;
}
