/* base/util.c: hex, decimal parsing, bounded buffers and file reads, and
 * cr_open_input/cr_read_input on what is not a regular file. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "base/util.h"

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
	T_OK(cr_parse_size("4G", &v) == 0 && v == 4ull << 30 && cr_parse_size("64k", &v) == 0 && v == 65536 &&
		     cr_parse_size("12", &v) == 0 && v == 12,
	     "size parses bytes and K/M/G suffixes");
	T_OK(cr_parse_size("G", &v) == -1 && cr_parse_size("1T", &v) == -1 && cr_parse_size("", &v) == -1 &&
		     cr_parse_size("17179869184G", &v) == -1,
	     "size rejects a bare suffix, unknown suffixes, empty and overflow");

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
			     cr_read_file(path, 16, &data, &len, &e) == 0 && len == 3,
		     "atomic write replaces the file");
		if (len == 3)
			free(data);
		unlink(path);
		T_OK(cr_write_file_atomic("/nonexistent-dir/x", "a", 1, 0600, &e) == -1 &&
			     strstr(e.msg, "/nonexistent-dir/x"),
		     "atomic write names the path on failure");
	}
	{
		/* The directory is held from create(): renamed while the file is
		 * written, it still gets the file on commit, and loses the
		 * temporary one on abort (they were made, renamed and removed by
		 * path, so a renamed directory kept a half-written file). */
		char dir[] = "/tmp/cr-util-XXXXXX", d1[64], d2[64], dst[80], got[80];
		struct cr_tmpfile t;
		struct stat st;
		uint8_t *data = NULL;
		size_t len = 0;
		T_OK(mkdtemp(dir) != NULL, "temp dir");
		snprintf(d1, sizeof d1, "%s/a", dir);
		snprintf(d2, sizeof d2, "%s/b", dir);
		snprintf(dst, sizeof dst, "%s/out", d1);
		snprintf(got, sizeof got, "%s/out", d2);
		T_OK(mkdir(d1, 0700) == 0 && cr_tmpfile_create(&t, dst, &e) == 0 && write(t.fd, "abc", 3) == 3 &&
			     rename(d1, d2) == 0 && cr_tmpfile_commit(&t, 0640, &e) == 0,
		     "a tmpfile commits after its directory was renamed");
		T_OK(cr_read_file(got, 16, &data, &len, &e) == 0 && len == 3 && stat(got, &st) == 0 &&
			     (st.st_mode & 07777) == 0640,
		     "... into that directory, whole, with its mode");
		free(data);
		unlink(got);
		T_OK(rename(d2, d1) == 0 && cr_tmpfile_create(&t, dst, &e) == 0 && write(t.fd, "abc", 3) == 3 &&
			     rename(d1, d2) == 0,
		     "a second tmpfile, its directory renamed");
		cr_tmpfile_abort(&t);
		T_OK(rmdir(d2) == 0, "... abort leaves nothing in the renamed directory");
		static const char *const dirs[] = { "", "/tmp/", "/tmp/.", "..", "x/.." };
		for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
			e.code = 0;
			T_OK(cr_tmpfile_create(&t, dirs[i], &e) == -1 && e.code == CR_E_NOTREG && t.fd == -1 &&
				     t.dir == -1,
			     "tmpfile refuses '%s', which names no file: %s", dirs[i], e.msg);
		}
		rmdir(dir);
	}
	{
		/* An atomic write replaces only a regular file (or nothing): a
		 * rename over "-o /dev/null" run as root would put a file in
		 * place of the device. Specimens in a private directory. */
		char dir[] = "/tmp/cr-util-XXXXXX", p[5][64];
		static const char *const kind[5] = { "a FIFO", "a symlink", "a directory", "a socket",
						     "a character device" };
		int made[5], sock;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct stat st;
		T_OK(mkdtemp(dir) != NULL, "temp dir");
		for (int i = 0; i < 5; i++)
			snprintf(p[i], sizeof p[i], "%s/%d", dir, i);
		made[0] = mkfifo(p[0], 0600) == 0;
		made[1] = symlink("target", p[1]) == 0;
		made[2] = mkdir(p[2], 0700) == 0;
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p[3]);
		sock = socket(AF_UNIX, SOCK_STREAM, 0);
		made[3] = sock >= 0 && bind(sock, (struct sockaddr *)&sa, sizeof sa) == 0;
		made[4] = mknod(p[4], S_IFCHR | 0600, makedev(1, 3)) == 0; /* root only: /dev/null's numbers */
		for (int i = 0; i < 5; i++) {
			char want[200];
			if (!made[i]) {
				printf("# %s: not made here (%s)\n", kind[i], i == 4 ? "needs root" : "failed");
				continue;
			}
			snprintf(want, sizeof want, "%s is %s, not a regular file: not replaced", p[i], kind[i]);
			e.code = 0;
			T_OK(cr_write_file_atomic(p[i], "x", 1, 0600, &e) == -1 && e.code == CR_E_NOTREG &&
				     strstr(e.msg, want) == e.msg,
			     "atomic write refuses to replace %s (CR_E_NOTREG): %s", kind[i], e.msg);
			T_OK(lstat(p[i], &st) == 0 && !S_ISREG(st.st_mode), "... which is still there, as it was");
		}
		T_OK(lstat(p[1], &st) == 0 && access(p[1], F_OK) != 0,
		     "... and nothing was written through the symlink");
		if (sock >= 0)
			close(sock);
		for (int i = 0; i < 5; i++)
			i == 2 ? rmdir(p[i]) : unlink(p[i]);
		rmdir(dir);
	}
	{
		/* Numbers from kernel pseudo-files: /proc says st_size 0, so a
		 * read that trusted it would see nothing. */
		char path[] = "/tmp/cr-util-XXXXXX";
		uint64_t n = 0;
		int fd = mkstemp(path);
		T_OK(cr_read_proc_u64("/proc/self/status", "VmHWM:", UINT64_MAX, &n, &e) == 0 && n > 0,
		     "read_proc_u64 reads VmHWM from /proc/self/status (st_size 0)");
		T_OK(cr_read_proc_u64("/proc/sys/kernel/pid_max", "", UINT32_MAX, &n, &e) == 0 && n >= 301,
		     "read_proc_u64 reads a one-number /proc/sys file");
		T_OK(fd >= 0 && write(fd, "Other: 1 kB\nMemAvailable:   2048 kB\nXMemAvailable: 9\n", 51) == 51,
		     "meminfo-like file written");
		close(fd);
		T_OK(cr_read_proc_u64(path, "MemAvailable:", UINT64_MAX, &n, &e) == 0 && n == 2048,
		     "read_proc_u64 takes the line that starts with the key, not one that contains it");
		T_OK(cr_read_proc_u64(path, "Missing:", UINT64_MAX, &n, &e) == -1 &&
			     strstr(e.msg, "no line 'Missing:'"),
		     "read_proc_u64 names a missing key");
		T_OK(cr_read_proc_u64(path, "MemAvailable:", 1000, &n, &e) == -1 && strstr(e.msg, "2048 is above 1000"),
		     "read_proc_u64 refuses a number above its maximum");
		T_OK(cr_read_proc_u64(path, "", UINT64_MAX, &n, &e) == -1 && strstr(e.msg, "expected a decimal number"),
		     "read_proc_u64 refuses a line without a number");
		T_OK(cr_write_file_atomic(path, "99999999999999999999999\n", 24, 0600, &e) == 0 &&
			     cr_read_proc_u64(path, "", UINT64_MAX, &n, &e) == -1,
		     "read_proc_u64 refuses a number that overflows 64 bits");
		unlink(path);
		T_OK(cr_read_proc_u64(path, "", UINT64_MAX, &n, &e) == -1 && strstr(e.msg, path),
		     "read_proc_u64 names a file it cannot open");
	}
	{
		/* Inputs that are not regular files: refused without blocking
		 * (an alarm turns a hang into a failure), by kind, with a code. */
		char dir[] = "/tmp/cr-util-XXXXXX", p[4][64], big[64];
		uint8_t *data = NULL;
		size_t len;
		struct stat st;
		int fd;
		static const char *const kind[4] = { "is a FIFO, not a regular file",
						     "is a character device, not a regular file",
						     "is a directory, not a regular file",
						     "No such file or directory" };
		alarm(10);
		T_OK(mkdtemp(dir) != NULL, "temp dir");
		snprintf(p[0], sizeof p[0], "%s/fifo", dir);
		snprintf(p[1], sizeof p[1], "%s/zero", dir);
		snprintf(p[2], sizeof p[2], "%s/dir", dir);
		snprintf(p[3], sizeof p[3], "%s/dangling", dir);
		snprintf(big, sizeof big, "%s/big", dir);
		mkfifo(p[0], 0600);
		T_OK(symlink("/dev/zero", p[1]) == 0 && mkdir(p[2], 0700) == 0 && symlink("nowhere", p[3]) == 0,
		     "specimens made");
		for (int i = 0; i < 4; i++) {
			char want[160];
			snprintf(want, sizeof want, "--opt: %s%s%s", p[i], i == 3 ? ": " : " ", kind[i]);
			e.code = 0;
			T_OK(cr_read_input("--opt", p[i], 100, &data, &len, &e) == -1 && !strcmp(e.msg, want) &&
				     e.code == (i == 3 ? CR_E_FAIL : CR_E_NOTREG),
			     "read_input refuses %s (code CR_E_NOTREG, or an errno), naming the option",
			     p[i] + strlen(dir) + 1);
			T_OK(cr_open_input(NULL, p[i], 100, 0, NULL, &e) == -1 && !strncmp(e.msg, p[i], strlen(p[i])),
			     "open_input refuses %s too (no option: the message starts with the path)",
			     p[i] + strlen(dir) + 1);
		}
		T_OK(cr_read_file(p[0], 100, &data, &len, &e) == -1 && e.code == CR_E_NOTREG,
		     "read_file (used by every PEM and document read) refuses a FIFO");
		T_OK(cr_write_file_atomic(big, "0123456789", 10, 0600, &e) == 0, "a 10-byte file");
		T_OK(cr_read_input("--x", big, 9, &data, &len, &e) == -1 && e.code == CR_E_TOOBIG &&
			     strstr(e.msg, "--x: ") == e.msg &&
			     strstr(e.msg, "is 10 bytes, larger than the limit of 9 bytes"),
		     "read_input refuses a file over its limit before reading, with CR_E_TOOBIG: %s", e.msg);
		fd = cr_open_input("--x", big, 10, 0, &st, &e);
		T_OK(fd >= 0 && st.st_size == 10 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
		     "open_input opens a regular file at its limit, in blocking mode, with its stat");
		if (fd >= 0)
			close(fd);
		snprintf(p[3], sizeof p[3], "%s/link", dir);
		T_OK(symlink("big", p[3]) == 0, "a symlink to the file");
		fd = cr_open_input("--x", p[3], 10, 0, NULL, &e);
		T_OK(fd >= 0, "open_input follows a symlink to a regular file");
		if (fd >= 0)
			close(fd);
		T_OK(cr_open_input("--x", p[3], 10, CR_IN_NOFOLLOW, NULL, &e) == -1,
		     "open_input with CR_IN_NOFOLLOW refuses a symlink (tree entries)");
		{
			/* CR_IN_SAME: the file must be the one a walk found; another
			 * one (even a FIFO) is refused before anything of it is told
			 * or opened. */
			struct stat want;
			T_OK(stat(big, &want) == 0, "the file's identity");
			st = want;
			fd = cr_open_input(NULL, big, 10, CR_IN_SAME, &st, &e);
			T_OK(fd >= 0 && st.st_ino == want.st_ino, "CR_IN_SAME opens the same file");
			if (fd >= 0)
				close(fd);
			st = want;
			st.st_ino++;
			T_OK(cr_open_input(NULL, big, 10, CR_IN_SAME, &st, &e) == -1 && e.code == CR_E_FAIL &&
				     strstr(e.msg, "changed since it was read"),
			     "CR_IN_SAME refuses another file: %s", e.msg);
			st = want;
			e.code = 0;
			T_OK(cr_open_input(NULL, p[0], 10, CR_IN_SAME, &st, &e) == -1 && e.code == CR_E_FAIL &&
				     strstr(e.msg, "changed since it was read") && !strstr(e.msg, "FIFO"),
			     "and a FIFO in its place, without saying what it is: %s", e.msg);
		}
		alarm(0);
		for (int i = 0; i < 4; i++)
			i == 2 ? rmdir(p[i]) : unlink(p[i]);
		unlink(big);
		snprintf(p[0], sizeof p[0], "%s/dangling", dir);
		unlink(p[0]);
		rmdir(dir);
	}
	return t_done();
}
