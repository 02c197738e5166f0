/* cgroup limits for the sandbox; see cgroup_limits.h. */
#include "sandbox/cgroup_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MOUNTINFO_MAX (1u << 20)
#define PROC_CGROUP_MAX (64u << 10)
#define CG_FILE_MAX (64u << 10)

/* A mounted hierarchy: where it is and which cgroup its root is. */
struct hier {
	int found;
	char mnt[PATH_MAX];
	char root[PATH_MAX];
};

const char *cg_mode_name(enum cg_mode m)
{
	switch (m) {
	case CG_NONE: return "none";
	case CG_V2: return "v2";
	case CG_V1: return "v1";
	}
	return "?";
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
		    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* Is word one of the comma-separated items of list[0..n)? */
static int in_list(const char *list, size_t n, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list, *end = list + n;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
		if (l == wl && !memcmp(p, word, wl))
			return 1;
		p += l + 1;
	}
	return 0;
}

static void set_hier(struct hier *h, const char *root, size_t rl, const char *mnt, size_t ml)
{
	if (h->found)
		return;
	if (unescape(root, rl, h->root, sizeof h->root) || unescape(mnt, ml, h->mnt, sizeof h->mnt))
		return;
	h->found = 1;
}

/* Find the cgroup2 mount and the v1 memory and pids hierarchies. A line:
 *   id parent maj:min root mountpoint options [optional...] - fstype source superopts */
static int find_hierarchies(struct hier *v2, struct hier *mem, struct hier *pids, struct cr_err *e)
{
	uint8_t *data;
	size_t len;
	if (cr_read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &data, &len, e))
		return -1;
	char *line = (char *)data, *end = (char *)data + len;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *le = nl ? nl : end;
		const char *tok[32];
		size_t tl[32], nt = 0, dash = 0;
		for (char *p = line; p < le && nt < 32;) {
			char *sp = memchr(p, ' ', (size_t)(le - p));
			tok[nt] = p;
			tl[nt] = sp ? (size_t)(sp - p) : (size_t)(le - p);
			if (nt >= 6 && !dash && tl[nt] == 1 && *p == '-')
				dash = nt;
			nt++;
			p = sp ? sp + 1 : le;
		}
		if (dash && dash + 3 < nt) {
			const char *fs = tok[dash + 1], *opts = tok[dash + 3];
			size_t fsl = tl[dash + 1], ol = tl[dash + 3];
			if (fsl == 7 && !memcmp(fs, "cgroup2", 7))
				set_hier(v2, tok[3], tl[3], tok[4], tl[4]);
			else if (fsl == 6 && !memcmp(fs, "cgroup", 6)) {
				if (in_list(opts, ol, "memory"))
					set_hier(mem, tok[3], tl[3], tok[4], tl[4]);
				if (in_list(opts, ol, "pids"))
					set_hier(pids, tok[3], tl[3], tok[4], tl[4]);
			}
		}
		line = le + 1;
	}
	free(data);
	return 0;
}

/* The caller's cgroup path in the v2 hierarchy (controller NULL) or in the
 * v1 hierarchy holding controller, from /proc/self/cgroup. */
static int own_cgroup(const char *controller, char *out, size_t cap, struct cr_err *e)
{
	uint8_t *data;
	size_t len;
	int found = 0;
	if (cr_read_file("/proc/self/cgroup", PROC_CGROUP_MAX, &data, &len, e))
		return -1;
	char *line = (char *)data, *end = (char *)data + len;
	while (line < end && !found) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *le = nl ? nl : end;
		char *c1 = memchr(line, ':', (size_t)(le - line));
		char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
		if (c2) {
			size_t cl = (size_t)(c2 - c1 - 1), pl = (size_t)(le - c2 - 1);
			int match = controller ? in_list(c1 + 1, cl, controller)
					       : (cl == 0 && c1 - line == 1 && line[0] == '0');
			if (match && pl < cap) {
				memcpy(out, c2 + 1, pl);
				out[pl] = 0;
				found = 1;
			}
		}
		line = le + 1;
	}
	free(data);
	if (!found)
		return cr_fail(e, "/proc/self/cgroup: no %s%s line", controller ? controller : "cgroup v2 (0::)",
			       controller ? " controller" : "");
	return 0;
}

/* Directory of the caller's cgroup in hierarchy h. */
static int own_dir(const struct hier *h, const char *controller, char *out, size_t cap, struct cr_err *e)
{
	char path[PATH_MAX];
	if (own_cgroup(controller, path, sizeof path, e))
		return -1;
	const char *rel = path;
	if (strcmp(h->root, "/")) {
		size_t rl = strlen(h->root);
		if (strncmp(path, h->root, rl) || (path[rl] && path[rl] != '/'))
			return cr_fail(e, "cgroup %s is outside the hierarchy mounted at %s (root %s)", path, h->mnt,
				       h->root);
		rel = path + rl;
	}
	if (!strcmp(rel, "/"))
		rel = "";
	if ((size_t)snprintf(out, cap, "%s%s", h->mnt, rel) >= cap)
		return cr_fail(e, "cgroup path %s%s too long", h->mnt, rel);
	return 0;
}

static int write_file(const char *dir, const char *file, const char *val, int optional, struct cr_err *e)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
		return cr_fail(e, "cgroup path %s/%s too long", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && optional && errno == ENOENT)
		return 0;
	if (fd < 0)
		return cr_failp(e, "cgroup: open %s", path);
	int rc = cr_write_all(fd, val, strlen(val));
	int saved = errno;
	close(fd);
	errno = saved;
	if (rc)
		return cr_failp(e, "cgroup: write '%s' to %s", val, path);
	return 0;
}

/* Read dir/file; *data is NULL (and 0 returned) when an optional file is absent. */
static int read_small(const char *dir, const char *file, int optional, char **data, struct cr_err *e)
{
	char path[PATH_MAX];
	size_t len;
	*data = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
		return cr_fail(e, "cgroup path %s/%s too long", dir, file);
	if (optional && access(path, F_OK) && errno == ENOENT)
		return 0;
	return cr_read_file(path, CG_FILE_MAX, (uint8_t **)data, &len, e);
}

/* The value after "key " on a line of a flat-keyed file; 0 if absent. */
static int read_key(const char *dir, const char *file, const char *key, uint64_t *out, struct cr_err *e)
{
	char *data;
	*out = 0;
	if (read_small(dir, file, 1, &data, e))
		return -1;
	if (!data)
		return 0;
	size_t kl = strlen(key);
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			if (cr_parse_u64(line + kl + 1, UINT64_MAX, out)) {
				free(data);
				return cr_fail(e, "cgroup %s/%s: bad value for %s", dir, file, key);
			}
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(data);
	return 0;
}

/* A single-number file (memory.peak, memory.max_usage_in_bytes); 0 if absent. */
static int read_number(const char *dir, const char *file, uint64_t *out, struct cr_err *e)
{
	char *data;
	*out = 0;
	if (read_small(dir, file, 1, &data, e))
		return -1;
	if (!data)
		return 0;
	char *nl = strchr(data, '\n');
	if (nl)
		*nl = 0;
	int rc = cr_parse_u64(data, UINT64_MAX, out);
	free(data);
	return rc ? cr_fail(e, "cgroup %s/%s: not a number", dir, file) : 0;
}

/* Make parent/name, replacing a stale empty one left by an earlier crash. */
static int make_dir(char *out, size_t cap, const char *parent, const char *name, struct cr_err *e)
{
	if ((size_t)snprintf(out, cap, "%s/%s", parent, name) >= cap)
		return cr_fail(e, "cgroup path %s/%s too long", parent, name);
	if (mkdir(out, 0755) == 0)
		return 0;
	if (errno == EEXIST && rmdir(out) == 0 && mkdir(out, 0755) == 0)
		return 0;
	return cr_failp(e, "cgroup: mkdir %s", out);
}

/* Is word one of the whitespace-separated words of text? */
static int has_word(const char *text, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = text; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t l = strcspn(p, " \n");
		if (l == wl && !memcmp(p, word, wl))
			return 1;
		p += l;
	}
	return 0;
}

/* Can we make a v2 child with the controllers needed under parent? Enables
 * them in parent's cgroup.subtree_control when they are not yet (possible in
 * the root cgroup, which is where the enclave's init runs). */
static int v2_usable(const char *parent, int need_mem, int need_pids, char *why, size_t wcap)
{
	static const char *const names[2] = { "memory", "pids" };
	int need[2] = { need_mem, need_pids };
	struct cr_err e;
	for (int i = 0; i < 2; i++) {
		char *ctl, *sub;
		if (!need[i])
			continue;
		if (read_small(parent, "cgroup.controllers", 0, &ctl, &e)) {
			snprintf(why, wcap, "%s", e.msg);
			return 0;
		}
		int avail = has_word(ctl, names[i]);
		free(ctl);
		if (!avail) {
			snprintf(why, wcap, "cgroup2 %s offers no %s controller", parent, names[i]);
			return 0;
		}
		if (read_small(parent, "cgroup.subtree_control", 0, &sub, &e)) {
			snprintf(why, wcap, "%s", e.msg);
			return 0;
		}
		int on = has_word(sub, names[i]);
		free(sub);
		char plus[16];
		snprintf(plus, sizeof plus, "+%s", names[i]);
		if (!on && write_file(parent, "cgroup.subtree_control", plus, 0, &e)) {
			snprintf(why, wcap, "%s", e.msg);
			return 0;
		}
	}
	return 1;
}

static int write_u64(const char *dir, const char *file, uint64_t v, int optional, struct cr_err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	return write_file(dir, file, s, optional, e);
}

static int create_v2(struct cg_ctx *c, const struct cg_limits *l, const char *parent, const char *name,
		     struct cr_err *e)
{
	if (make_dir(c->mem_dir, sizeof c->mem_dir, parent, name, e))
		return -1;
	c->have_mem = 1;
	c->mode = CG_V2;
	if (l->memory_max && (write_u64(c->mem_dir, "memory.max", l->memory_max, 0, e) ||
			      /* absent when the kernel has no swap accounting */
			      write_file(c->mem_dir, "memory.swap.max", "0", 1, e) ||
			      write_file(c->mem_dir, "memory.oom.group", "1", 0, e)))
		return -1;
	if (l->pids_max && write_u64(c->mem_dir, "pids.max", l->pids_max, 0, e))
		return -1;
	return 0;
}

static int create_v1(struct cg_ctx *c, const struct cg_limits *l, const struct hier *mem, const struct hier *pids,
		     const char *name, struct cr_err *e)
{
	char parent[PATH_MAX];
	c->mode = CG_V1;
	if (l->memory_max) {
		if (own_dir(mem, "memory", parent, sizeof parent, e) ||
		    make_dir(c->mem_dir, sizeof c->mem_dir, parent, name, e))
			return -1;
		c->have_mem = 1;
		/* memsw (memory + swap) equal to the memory limit: no swap. It
		 * must not be below limit_in_bytes, so it is written second. */
		if (write_u64(c->mem_dir, "memory.limit_in_bytes", l->memory_max, 0, e) ||
		    write_u64(c->mem_dir, "memory.memsw.limit_in_bytes", l->memory_max, 1, e))
			return -1;
	}
	if (l->pids_max) {
		if (own_dir(pids, "pids", parent, sizeof parent, e) ||
		    make_dir(c->pids_dir, sizeof c->pids_dir, parent, name, e))
			return -1;
		c->have_pids = 1;
		if (write_u64(c->pids_dir, "pids.max", l->pids_max, 0, e))
			return -1;
	}
	return 0;
}

int cg_create(struct cg_ctx *c, const struct cg_limits *l, const char *name, struct cr_err *e)
{
	struct hier v2 = { 0 }, mem = { 0 }, pids = { 0 };
	char parent[PATH_MAX], why[400] = "no cgroup2 mounted";
	memset(c, 0, sizeof *c);
	c->mode = CG_NONE;
	if (!l->memory_max && !l->pids_max)
		return 0;
	if (find_hierarchies(&v2, &mem, &pids, e))
		return cr_err_wrap(e, "cgroup");
	if (v2.found) {
		struct cr_err e2;
		if (own_dir(&v2, NULL, parent, sizeof parent, &e2))
			snprintf(why, sizeof why, "%s", e2.msg);
		else if (v2_usable(parent, l->memory_max != 0, l->pids_max != 0, why, sizeof why)) {
			if (create_v2(c, l, parent, name, e) == 0)
				return 0;
			cg_destroy(c, NULL);
			return -1;
		}
	}
	if ((!l->memory_max || mem.found) && (!l->pids_max || pids.found)) {
		if (create_v1(c, l, &mem, &pids, name, e) == 0)
			return 0;
		cg_destroy(c, NULL);
		return -1;
	}
	memset(c, 0, sizeof *c);
	return cr_fail(e, "cannot enforce the %s%s%s limit: %s, and no cgroup v1 %s hierarchy is mounted",
		       l->memory_max ? "memory" : "", l->memory_max && l->pids_max ? " and " : "",
		       l->pids_max ? "pids" : "", why, l->memory_max && !mem.found ? "memory" : "pids");
}

int cg_enter(const struct cg_ctx *c, pid_t pid, struct cr_err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%ld", (long)pid);
	if (c->have_mem && write_file(c->mem_dir, "cgroup.procs", s, 0, e))
		return -1;
	if (c->have_pids && write_file(c->pids_dir, "cgroup.procs", s, 0, e))
		return -1;
	return 0;
}

int cg_read_usage(const struct cg_ctx *c, struct cg_usage *u, struct cr_err *e)
{
	memset(u, 0, sizeof *u);
	if (c->mode == CG_V2 && c->have_mem)
		return read_key(c->mem_dir, "memory.events", "oom_kill", &u->oom_kills, e) ||
		       read_key(c->mem_dir, "pids.events", "max", &u->pids_max_hit, e) ||
		       read_number(c->mem_dir, "memory.peak", &u->memory_peak, e);
	if (c->mode == CG_V1) {
		if (c->have_mem && (read_key(c->mem_dir, "memory.oom_control", "oom_kill", &u->oom_kills, e) ||
				    read_number(c->mem_dir, "memory.max_usage_in_bytes", &u->memory_peak, e)))
			return -1;
		if (c->have_pids && read_key(c->pids_dir, "pids.events", "max", &u->pids_max_hit, e))
			return -1;
	}
	return 0;
}

/* Kill whatever is listed in dir/cgroup.procs; returns how many were. */
static int kill_listed(const char *dir)
{
	char *data;
	struct cr_err e;
	int n = 0;
	if (read_small(dir, "cgroup.procs", 1, &data, &e) || !data)
		return 0;
	for (char *p = data; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		uint64_t pid;
		if (*p && !cr_parse_u64(p, INT32_MAX, &pid) && pid > 1) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	free(data);
	return n;
}

/* rmdir, retrying for up to a second while exiting tasks leave. */
static int remove_dir(const char *dir, struct cr_err *e)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return cr_failp(e, "cgroup: rmdir %s", dir);
}

int cg_destroy(struct cg_ctx *c, struct cr_err *e)
{
	int rc = 0, survivors = 0;
	char *dirs[2] = { c->have_mem ? c->mem_dir : NULL, c->have_pids ? c->pids_dir : NULL };
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		int n = kill_listed(dirs[i]);
		if (n && !survivors) {
			survivors = n;
			rc = cr_fail(e, "%d process(es) outlived the sandbox in cgroup %s (killed now)", n, dirs[i]);
		}
		struct cr_err e2;
		if (remove_dir(dirs[i], &e2) && rc == 0)
			rc = cr_fail(e, "%s", e2.msg);
	}
	c->have_mem = c->have_pids = 0;
	return rc;
}
