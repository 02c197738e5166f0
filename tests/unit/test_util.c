/* nsm/util.c: hex, decimal parsing, bounded buffers and file reads. */
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

int main(void)
{
	struct cr_err e;
	struct cr_buf b;
	uint8_t bytes[4];
	char hex[9];
	uint64_t v;

	cr_hex((const uint8_t *)"\x00\x1f\xa0\xff", 4, hex);
	T_STR(hex, "001fa0ff", "hex encodes lowercase");
	T_OK(cr_unhex("001FA0ff", bytes, 4) == 0 && !memcmp(bytes, "\x00\x1f\xa0\xff", 4), "unhex accepts both cases");
	T_OK(cr_unhex("001fa0f", bytes, 4) == -1, "unhex rejects odd length");
	T_OK(cr_unhex("001fa0fg", bytes, 4) == -1, "unhex rejects a non-hex digit");

	T_OK(cr_parse_u64("0", 10, &v) == 0 && v == 0, "u64 parses 0");
	T_OK(cr_parse_u64("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX, "u64 parses the maximum");
	T_OK(cr_parse_u64("18446744073709551616", UINT64_MAX, &v) == -1, "u64 rejects overflow");
	T_OK(cr_parse_u64("-1", 10, &v) == -1 && cr_parse_u64(" 1", 10, &v) == -1 && cr_parse_u64("", 10, &v) == -1,
	     "u64 rejects sign, space and empty");
	T_OK(cr_parse_u64("11", 10, &v) == -1, "u64 enforces the maximum");

	cr_buf_init(&b, 8);
	T_OK(cr_buf_put(&b, "12345678", 8, &e) == 0, "buffer takes up to its limit");
	T_OK(cr_buf_putc(&b, '9', &e) == -1 && strstr(e.msg, "limit of 8 bytes"), "buffer refuses past its limit");
	cr_buf_free(&b);

	{
		char path[] = "/tmp/cr-util-XXXXXX";
		int fd = mkstemp(path);
		uint8_t *data;
		size_t len;
		T_OK(fd >= 0 && write(fd, "hello", 5) == 5, "temp file written");
		close(fd);
		T_OK(cr_read_file(path, 5, &data, &len, &e) == 0 && len == 5 && !memcmp(data, "hello", 6),
		     "read_file reads a file at its limit, NUL-terminated");
		if (len == 5)
			free(data);
		T_OK(cr_read_file(path, 4, &data, &len, &e) == -1 && strstr(e.msg, "limit of 4 bytes"),
		     "read_file refuses a file over its limit");
		T_OK(cr_write_file_atomic(path, "bye", 3, 0600, &e) == 0 &&
		     cr_read_file(path, 16, &data, &len, &e) == 0 && len == 3, "atomic write replaces the file");
		if (len == 3)
			free(data);
		unlink(path);
		T_OK(cr_write_file_atomic("/nonexistent-dir/x", "a", 1, 0600, &e) == -1 &&
		     strstr(e.msg, "/nonexistent-dir/x"), "atomic write names the path on failure");
	}
	return t_done();
}
