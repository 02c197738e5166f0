/* vsock/tree_hash.c against git itself: the same tree, both object formats. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "vsock/tree_hash.h"

static int sh(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0;
	if (!p)
		return -1;
	if (out) {
		len = fread(out, 1, n - 1, p);
		out[len] = 0;
		while (len && (out[len - 1] == '\n'))
			out[--len] = 0;
	}
	return pclose(p);
}

static void put(const char *dir, const char *rel, const char *text, int mode)
{
	char p[512];
	int fd;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(p);
		close(fd);
	}
	chmod(p, (mode_t)mode);
}

/* Walk dir (test-only) and feed the hasher. */
static int add_dir(struct tree_hasher *t, const char *root, const char *rel)
{
	char path[1024];
	DIR *d;
	struct dirent *de;
	snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char r[1024], full[1024];
		struct stat st;
		struct blob_hasher b;
		uint8_t h1[20], h2[32];
		struct cr_err e;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
			continue;
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof full, "%s/%s", root, r);
		lstat(full, &st);
		if (S_ISDIR(st.st_mode)) {
			add_dir(t, root, r);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[512];
			ssize_t n = readlink(full, target, sizeof target);
			blob_begin(&b, (uint64_t)n);
			blob_update(&b, target, (size_t)n);
		} else {
			uint8_t *data;
			size_t n;
			cr_read_file(full, 1 << 20, &data, &n, &e);
			blob_begin(&b, n);
			blob_update(&b, data, n);
			free(data);
		}
		blob_end(&b, h1, h2);
		tree_add(t, r,
			 S_ISLNK(st.st_mode)   ? GIT_MODE_LINK
			 : (st.st_mode & 0100) ? GIT_MODE_EXEC
					       : GIT_MODE_FILE,
			 h1, h2, &e);
	}
	closedir(d);
	return 0;
}

static void ids(const char *dir, char *h1, char *h2)
{
	struct tree_hasher t;
	uint8_t a[20], b[32];
	struct cr_err e;
	tree_hasher_init(&t, 1000);
	add_dir(&t, dir, "");
	if (tree_finish(&t, a, b, &e)) {
		strcpy(h1, e.msg);
		strcpy(h2, e.msg);
	} else {
		cr_hex(a, 20, h1);
		cr_hex(b, 32, h2);
	}
	tree_hasher_free(&t);
}

int main(void)
{
	char dir[] = "/tmp/cr-tree-XXXXXX", cmd[1024], want1[128], want2[128], got1[600], got2[600], p[512];
	struct tree_hasher t;
	struct cr_err e;
	uint8_t a[20], b[32];

	tree_hasher_init(&t, 10);
	T_OK(tree_finish(&t, a, b, &e) == 0, "empty tree hashes");
	cr_hex(a, 20, got1);
	T_STR(got1, "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "empty tree is git's well-known empty tree id");
	tree_hasher_free(&t);

	if (sh("git --version >/dev/null 2>&1", NULL, 0) != 0) {
		t_skip("git is not installed", "tree ids equal git's");
		return t_done();
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof p, "%s/src", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/src/deep", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/empty", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/a", dir);
	mkdir(p, 0755);
	put(dir, "README", "hello\n", 0644);
	put(dir, "build.sh", "#!/bin/sh\nmake\n", 0755);
	put(dir, "src/main.c", "int main(void){return 0;}\n", 0644);
	put(dir, "src/deep/x.h", "", 0644);
	put(dir, "a.txt", "dot sorts before slash\n", 0644);
	put(dir, "a/b", "in a dir named like a file prefix\n", 0644);
	put(dir, "a-b", "dash\n", 0644);
	snprintf(p, sizeof p, "%s/link", dir);
	if (symlink("src/main.c", p) < 0)
		perror("symlink");

	snprintf(cmd, sizeof cmd,
		 "cd %s && git init -q . && git add -A && git -c user.name=t -c user.email=t@t write-tree", dir);
	sh(cmd, want1, sizeof want1);
	ids(dir, got1, got2);
	T_STR(got1, want1,
	      "SHA-1 tree id equals git write-tree (exec bit, symlink, nested and empty dirs, a.txt/a/ and a-b "
	      "ordering)");
	snprintf(cmd, sizeof cmd,
		 "cd %s && rm -rf .git && git init -q --object-format=sha256 . 2>/dev/null && git add -A && git "
		 "write-tree",
		 dir);
	if (sh(cmd, want2, sizeof want2) == 0 && strlen(want2) == 64)
		T_STR(got2, want2, "SHA-256 tree id equals git write-tree in a sha256 repository");
	else
		t_skip("this git cannot make sha256 repositories", "SHA-256 tree id equals git's");

	tree_hasher_init(&t, 10);
	tree_add(&t, "x", GIT_MODE_FILE, a, b, &e);
	tree_add(&t, "x", GIT_MODE_FILE, a, b, &e);
	T_OK(tree_finish(&t, a, b, &e) == -1 && strstr(e.msg, "'x' given twice"), "a path twice is refused");
	tree_hasher_free(&t);
	tree_hasher_init(&t, 10);
	tree_add(&t, "x", GIT_MODE_FILE, a, b, &e);
	tree_add(&t, "x.c", GIT_MODE_FILE, a, b, &e);
	tree_add(&t, "x/y", GIT_MODE_FILE, a, b, &e);
	T_OK(tree_finish(&t, a, b, &e) == -1 && strstr(e.msg, "both a file and a directory"),
	     "file and directory of one name refused");
	tree_hasher_free(&t);
	tree_hasher_init(&t, 1);
	T_OK(tree_add(&t, "x", GIT_MODE_FILE, a, b, &e) == 0 && tree_add(&t, "y", GIT_MODE_FILE, a, b, &e) == -1 &&
		     strstr(e.msg, "more than 1"),
	     "entry limit enforced");
	tree_hasher_free(&t);

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	sh(cmd, NULL, 0);
	return t_done();
}
