/* Verification inputs from the command line (verify_inputs.h). */
#include "host-tool/verify/verify_inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/digest.h"
#include "host-tool/eif/eif.h"
#include "host-tool/client/src_stream.h"

extern char **environ;

void vin_init(struct verify_inputs *v)
{
	memset(v, 0, sizeof *v);
}

void vin_free(struct verify_inputs *v)
{
	if (v->have_root)
		pem_free(&v->root);
	v->have_root = 0;
}

int vin_set_root(struct verify_inputs *v, const char *path, struct cr_err *e)
{
	const struct pem_object *o;
	vin_free(v);
	if (pem_read_cert(path, &v->root, &o, e))
		return cr_err_wrap(e, "--root");
	v->have_root = 1;
	v->pol.root_der = o->der;
	v->pol.root_len = o->len;
	v->pol.root_desc = path;
	return 0;
}

/* PCR0/1/2 of an EIF, read and measured now. */
static int eif_pcrs(const char *path, struct eif_pcrs *pcrs, struct cr_err *e)
{
	struct eif_image *img = calloc(1, sizeof *img);
	struct eif_scan scan;
	int rc = -1;
	if (!img)
		return cr_fail(e, "out of memory");
	if (eif_open(path, img, e) == 0) {
		rc = eif_scan(img, &scan, e);
		eif_close(img);
	}
	free(img);
	if (rc)
		return cr_err_wrap(e, "--eif");
	if (!scan.crc_ok)
		return cr_fail(e, "--eif: %s: the EIF's CRC does not match its contents", path);
	*pcrs = scan.pcrs;
	return 0;
}

int vin_set_eif(struct verify_inputs *v, const char *path, struct cr_err *e)
{
	struct eif_pcrs pcrs;
	char desc[4200];
	if (eif_pcrs(path, &pcrs, e))
		return -1;
	snprintf(desc, sizeof desc, "the EIF %s", path);
	vin_set_pcrs(v, pcrs.pcr0, pcrs.pcr1, pcrs.pcr2, desc);
	return 0;
}

/* The slot of the next image beyond the first. */
static struct bv_image *next_image(struct verify_inputs *v, struct cr_err *e)
{
	if (v->nimages == BV_MAX_IMAGES) {
		cr_fail(e, "more than %d allowed images (--eif, --pcr0/1/2 sets)", BV_MAX_IMAGES);
		return NULL;
	}
	return &v->more[v->nimages - 1];
}

static void image_added(struct verify_inputs *v)
{
	v->nimages++;
	v->pol.more_images = v->more;
	v->pol.nmore_images = v->nimages - 1;
}

int vin_add_eif(struct verify_inputs *v, const char *path, struct cr_err *e)
{
	struct eif_pcrs pcrs;
	struct bv_image *img;
	if (!v->nimages) {
		if (vin_set_eif(v, path, e))
			return -1;
		image_added(v);
		return 0;
	}
	if (!(img = next_image(v, e)) || eif_pcrs(path, &pcrs, e))
		return -1;
	memcpy(img->pcr[0], pcrs.pcr0, CR_PCR_LEN);
	memcpy(img->pcr[1], pcrs.pcr1, CR_PCR_LEN);
	memcpy(img->pcr[2], pcrs.pcr2, CR_PCR_LEN);
	snprintf(img->desc, sizeof img->desc, "the EIF %s", path);
	image_added(v);
	return 0;
}

int vin_add_pcr_set(struct verify_inputs *v, const char *const hex[3], unsigned set, struct cr_err *e)
{
	uint8_t pcr[REPORT_PCRS][CR_PCR_LEN];
	struct bv_image *img;
	char desc[64] = "--pcr0/1/2";
	for (unsigned i = 0; i < REPORT_PCRS; i++)
		if (strlen(hex[i]) != 2 * CR_PCR_LEN || cr_unhex(hex[i], pcr[i], CR_PCR_LEN))
			return cr_fail(e, "--pcr%u: expected %d hex digits (SHA-384)", i, 2 * CR_PCR_LEN);
	if (set)
		snprintf(desc, sizeof desc, "--pcr0/1/2 set %u", set);
	if (!v->nimages) {
		vin_set_pcrs(v, pcr[0], pcr[1], pcr[2], desc);
		image_added(v);
		return 0;
	}
	if (!(img = next_image(v, e)))
		return -1;
	memcpy(img->pcr, pcr, sizeof pcr);
	snprintf(img->desc, sizeof img->desc, "%s", desc);
	image_added(v);
	return 0;
}

void vin_set_pcrs(struct verify_inputs *v, const uint8_t *pcr0, const uint8_t *pcr1, const uint8_t *pcr2,
		  const char *desc)
{
	memcpy(v->pol.pcr[0], pcr0, CR_PCR_LEN);
	memcpy(v->pol.pcr[1], pcr1, CR_PCR_LEN);
	memcpy(v->pol.pcr[2], pcr2, CR_PCR_LEN);
	v->pol.has_pcrs = 1;
	v->pcrs_given = 7;
	snprintf(v->pcr_desc, sizeof v->pcr_desc, "%s", desc);
	v->pol.pcr_desc = v->pcr_desc;
}

int vin_set_pcr(struct verify_inputs *v, unsigned i, const char *hex, struct cr_err *e)
{
	if (strlen(hex) != 2 * CR_PCR_LEN || cr_unhex(hex, v->pol.pcr[i], CR_PCR_LEN))
		return cr_fail(e, "--pcr%u: expected %d hex digits (SHA-384)", i, 2 * CR_PCR_LEN);
	v->pcrs_given |= 1u << i;
	v->pol.has_pcrs = v->pcrs_given == 7;
	snprintf(v->pcr_desc, sizeof v->pcr_desc, "--pcr0/1/2");
	v->pol.pcr_desc = v->pcr_desc;
	return 0;
}

int vin_set_nonce(struct verify_inputs *v, const char *hex, struct cr_err *e)
{
	size_t n;
	if (cr_unhex_var(hex, v->pol.nonce, sizeof v->pol.nonce, &n) || n * 2 != strlen(hex))
		return cr_fail(e, "--nonce: expected hex of at most %d bytes", WIRE_MAX_NONCE);
	v->pol.nonce_len = n;
	v->pol.has_nonce = 1;
	return 0;
}

int vin_set_nonce_bytes(struct verify_inputs *v, const uint8_t *nonce, size_t len)
{
	if (len > sizeof v->pol.nonce)
		return -1;
	memcpy(v->pol.nonce, nonce, len);
	v->pol.nonce_len = len;
	v->pol.has_nonce = 1;
	return 0;
}

/* `git -C repo ARGS...`: its first 79 bytes of output in out, and its
 * wait status; -1 when git cannot be run. git's own words would be a
 * second, unescaped line: stderr goes to /dev/null, the status says enough. */
static int git_run(const char *repo, char *const args[], char out[80], int *status, struct cr_err *e)
{
	char *argv[16] = { "git", "-C", (char *)repo };
	posix_spawn_file_actions_t fa;
	int pipefd[2], n = 3;
	size_t len = 0;
	pid_t pid;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pipefd))
		return cr_failp(e, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	errno = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (errno) {
		close(pipefd[0]);
		return cr_failp(e, "--git-commit: cannot run git");
	}
	for (;;) {
		ssize_t r = read(pipefd[0], out + len, 79 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == 79)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	out[len] = 0;
	return 0;
}

/* `git -C repo rev-parse --verify --end-of-options REV^{tree}`: its one
 * line. A failure is told apart by asking git for the repository alone: it
 * exits 128 both for no repository and for a revision it cannot resolve. */
static int git_tree_of(const char *rev, const char *repo, char out[80], struct cr_err *e)
{
	char spec[512], dir[80];
	char *tree_args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec, NULL };
	char *repo_args[] = { "rev-parse", "--git-dir", NULL };
	int status;
	if (snprintf(spec, sizeof spec, "%s^{tree}", rev) >= (int)sizeof spec)
		return cr_fail(e, "--git-commit: too long");
	if (git_run(repo, tree_args, out, &status, e))
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		out[strcspn(out, "\n")] = 0;
		return 0;
	}
	if (git_run(repo, repo_args, dir, &status, e))
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cr_fail(e, "--repo %s: not a git repository (or git cannot read it)", repo);
	return cr_fail(e, "--git-commit: '%s' is not a commit or tree in the repository %s", rev, repo);
}

int vin_set_git_commit(struct verify_inputs *v, const char *rev, const char *repo, struct cr_err *e)
{
	char hex[80];
	size_t n;
	if (!repo)
		repo = ".";
	if (git_tree_of(rev, repo, hex, e))
		return -1;
	n = strlen(hex);
	if ((n != 2 * CR_SHA1_LEN && n != 2 * CR_SHA256_LEN) || cr_unhex(hex, v->pol.source_tree, n / 2))
		return cr_fail(e, "--git-commit: git printed '%s', not a tree id", hex);
	v->pol.source_tree_len = n / 2;
	v->pol.has_source = 1;
	snprintf(v->source_desc, sizeof v->source_desc, "git commit %s (repository %s)", rev, repo);
	v->pol.source_desc = v->source_desc;
	return 0;
}

int vin_set_source_dir(struct verify_inputs *v, const char *dir, struct cr_err *e)
{
	struct src_stats st;
	if (src_stream_send(dir, WIRE_SRC, -1, 0, NULL, NULL, &st, e))
		return cr_err_wrap(e, "--source");
	memcpy(v->pol.source_tree, st.tree_sha256, CR_SHA256_LEN);
	v->pol.source_tree_len = CR_SHA256_LEN;
	v->pol.has_source = 1;
	snprintf(v->source_desc, sizeof v->source_desc, "directory %s", dir);
	v->pol.source_desc = v->source_desc;
	return 0;
}

int vin_check(const struct verify_inputs *v, struct cr_err *e)
{
	if (v->pcrs_given && v->pcrs_given != 7)
		return cr_fail(e, "give all of --pcr0, --pcr1 and --pcr2 (or --eif)");
	return 0;
}
