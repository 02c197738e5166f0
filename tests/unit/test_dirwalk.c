/* base/dirwalk.c: order, symlinks reported and not followed, and the walk
 * by descriptors: a directory of the tree swapped for a symlink to another
 * directory while the walk runs leads neither the walk nor a callback that
 * opens through dir_fd outside the tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirwalk.h"
#include "tests/unit/check.h"

static char root[] = "/tmp/cr-dirwalk-XXXXXX";
static char outside[] = "/tmp/cr-dirwalk-out-XXXXXX";

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	int fd;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(p);
		close(fd);
	}
}

static void sub(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

struct seen {
	char order[512];
	char f_text[64];  /* A/f read through dir_fd */
	ino_t f_ino;      /* A/f as the walk reported it */
	int swap_dir;     /* 1: swap A after A/e; 2: swap B when it is reported */
	int link_is_link; /* "l" was reported as a symlink */
};

static void swap_for_link(const char *name)
{
	char from[512], to[512];
	sub(from, sizeof from, root, name);
	snprintf(to, sizeof to, "%s.moved", from);
	if (rename(from, to) || symlink(outside, from))
		perror(from);
}

static int visit(void *ctx, const struct dirwalk_entry *x, struct cr_err *e)
{
	struct seen *s = ctx;
	(void)e;
	snprintf(s->order + strlen(s->order), sizeof s->order - strlen(s->order), "%s ", x->rel);
	if (!strcmp(x->rel, "l"))
		s->link_is_link = S_ISLNK(x->st.st_mode);
	if (s->swap_dir == 1 && !strcmp(x->rel, "A/e"))
		swap_for_link("A");
	if (s->swap_dir == 2 && !strcmp(x->rel, "B"))
		swap_for_link("B");
	if (!strcmp(x->rel, "A/f")) {
		int fd = openat(x->dir_fd, x->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, s->f_text, sizeof s->f_text - 1);
		s->f_text[n > 0 ? n : 0] = 0;
		s->f_ino = x->st.st_ino;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int main(void)
{
	char p[512], q[512];
	struct seen s;
	struct stat inside_f;
	struct cr_err e;
	int rc;

	if (!mkdtemp(root) || !mkdtemp(outside))
		return 1;
	/* root: A/{e,f}, B/g, l -> A, z; outside: f, g (the secrets) */
	sub(p, sizeof p, root, "A");
	mkdir(p, 0755);
	write_file(p, "e", "e");
	write_file(p, "f", "inside");
	sub(q, sizeof q, p, "f");
	stat(q, &inside_f);
	sub(p, sizeof p, root, "B");
	mkdir(p, 0755);
	write_file(p, "g", "g");
	sub(p, sizeof p, root, "l");
	if (symlink("A", p))
		perror(p);
	write_file(root, "z", "z");
	write_file(outside, "f", "SECRET");
	write_file(outside, "g", "SECRET");

	memset(&s, 0, sizeof s);
	rc = dirwalk(root, visit, &s, &e);
	T_OK(rc == 0, "a plain walk succeeds");
	T_STR(s.order, "A A/e A/f B B/g l z ", "depth first, each directory's entries in bytewise order");
	T_OK(s.link_is_link, "a symlink is reported as a symlink, not followed");
	T_STR(s.f_text, "inside", "a callback reads the entry through dir_fd");

	/* A swapped for a symlink to outside after A's entries were listed:
	 * A/f is still the file in the tree, by stat and by content. */
	memset(&s, 0, sizeof s);
	s.swap_dir = 1;
	rc = dirwalk(root, visit, &s, &e);
	T_OK(rc == 0, "the walk goes on in the directory it opened");
	T_OK(s.f_ino == inside_f.st_ino, "the swapped directory's entry is stat'ed in the tree, not outside");
	T_STR(s.f_text, "inside", "and read through dir_fd from the tree, not the symlink's target");
	sub(p, sizeof p, root, "A");
	sub(q, sizeof q, root, "A.moved");
	T_OK(unlink(p) == 0 && rename(q, p) == 0, "A put back");

	/* B swapped for a symlink between its report and the walk into it:
	 * refused, nothing of outside is visited. */
	memset(&s, 0, sizeof s);
	s.swap_dir = 2;
	rc = dirwalk(root, visit, &s, &e);
	T_OK(rc == -1 && strstr(e.msg, "/B") != NULL, "a directory swapped before the walk enters it is refused: %s",
	     e.msg);
	T_OK(strstr(s.order, "B/g") == NULL, "nothing under the symlink is visited (%s)", s.order);
	sub(p, sizeof p, root, "B");
	sub(q, sizeof q, root, "B.moved");
	T_OK(unlink(p) == 0 && rename(q, p) == 0, "B put back");

	/* The root itself may be named through a symlink; a FIFO root is not
	 * opened. */
	memset(&s, 0, sizeof s);
	sub(p, sizeof p, outside, "root-link");
	T_OK(symlink(root, p) == 0 && dirwalk(p, visit, &s, &e) == 0, "the root may be a symlink to a directory");
	sub(q, sizeof q, outside, "fifo");
	T_OK(mkfifo(q, 0600) == 0 && dirwalk(q, visit, &s, &e) == -1 && e.code == CR_E_NOTDIR &&
		     strstr(e.msg, "is a FIFO, not a directory"),
	     "a FIFO root is refused without opening it: %s", e.msg);

	{
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, outside);
		if (system(cmd))
			perror("rm");
	}
	return t_done();
}
