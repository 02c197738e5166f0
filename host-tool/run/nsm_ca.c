/* Test CA of the NSM model: generate with openssl, load and check (see
 * nsm_ca.h). */
#include "host-tool/run/nsm_ca.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nsm/x509_chain.h"

/* The four files a CA directory must hold, and what generation adds. */
static const char *const ca_files[] = { "root.pem", "intermediate.pem", "leaf.pem", "leaf.key" };
#define CA_FILES 4
static const char *const generated_files[] = { "root.pem", "intermediate.pem", "leaf.pem", "leaf.key",
					       "root.key", "intermediate.key", "ca.cnf" };
#define GENERATED_FILES 7

/* Extension sections for `openssl req -x509 -extensions NAME`. [dn] is
 * there because req insists on a distinguished_name section even with
 * -subj. */
static const char ca_config[] =
	"# cleanroom run: extensions of the local NSM test CA (removed after use)\n"
	"[req]\ndistinguished_name = dn\n[dn]\n"
	"[root]\nbasicConstraints = critical,CA:TRUE,pathlen:1\nkeyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"[intermediate]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
	"[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
	"subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n";

#define OPENSSL_OUT_MAX 2048

static int path_in(char *out, size_t n, const char *dir, const char *name, struct cr_err *e)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
		return cr_fail(e, "%s/%s: path too long", dir, name);
	return 0;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The first line of openssl's output, for the error message. */
static void first_line(char *s)
{
	s[strcspn(s, "\r\n")] = 0;
}

/* Run `openssl argv...` in dir with stdin from /dev/null; its output is
 * collected (bounded) and quoted on failure. The child gets an empty signal
 * mask: `cleanroom run` blocks SIGINT/SIGTERM for its signalfd, and a
 * Ctrl-C must still stop openssl. */
static int run_openssl(const char *what, char *const argv[], struct cr_err *e)
{
	char out[OPENSSL_OUT_MAX];
	size_t got = 0;
	int pfd[2], st;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return cr_failp(e, "openssl (%s): pipe", what);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return cr_failp(e, "openssl (%s): fork", what);
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDONLY);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char sink[256];
		ssize_t r = got < sizeof out - 1 ? read(pfd[0], out + got, sizeof out - 1 - got)
						 : read(pfd[0], sink, sizeof sink);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (got < sizeof out - 1)
			got += (size_t)r;
	}
	out[got] = 0;
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return cr_failp(e, "openssl (%s): waitpid", what);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	first_line(out);
	if (WIFEXITED(st))
		return cr_fail(e, "openssl (%s) failed with status %d: %s", what, WEXITSTATUS(st),
			       out[0] ? out : "no message");
	return cr_fail(e, "openssl (%s) was killed by %s", what, strsignal(WTERMSIG(st)));
}

/* One certificate: a fresh P-384 key and `openssl req -x509`, self-signed
 * (issuer NULL) or issued by issuer.pem/issuer.key. */
static int make_cert(const char *dir, const char *cnf, const char *name, const char *subject, const char *days,
		     const char *issuer, struct cr_err *e)
{
	char key[PATH_MAX], pem[PATH_MAX], ca[PATH_MAX], cakey[PATH_MAX], f[4][40];
	char *argv[32];
	int n = 0;

	snprintf(f[0], sizeof f[0], "%s.key", name);
	snprintf(f[1], sizeof f[1], "%s.pem", name);
	snprintf(f[2], sizeof f[2], "%s.pem", issuer ? issuer : "");
	snprintf(f[3], sizeof f[3], "%s.key", issuer ? issuer : "");
	if (path_in(key, sizeof key, dir, f[0], e) || path_in(pem, sizeof pem, dir, f[1], e) ||
	    path_in(ca, sizeof ca, dir, f[2], e) || path_in(cakey, sizeof cakey, dir, f[3], e))
		return -1;
	argv[n++] = "openssl";
	argv[n++] = "req";
	argv[n++] = "-x509";
	argv[n++] = "-config";
	argv[n++] = (char *)cnf;
	argv[n++] = "-extensions";
	argv[n++] = (char *)name;
	argv[n++] = "-newkey";
	argv[n++] = "ec";
	argv[n++] = "-pkeyopt";
	argv[n++] = "ec_paramgen_curve:P-384";
	argv[n++] = "-noenc";
	argv[n++] = "-keyout";
	argv[n++] = key;
	argv[n++] = "-out";
	argv[n++] = pem;
	argv[n++] = "-subj";
	argv[n++] = (char *)subject;
	argv[n++] = "-days";
	argv[n++] = (char *)days;
	argv[n++] = "-sha384";
	if (issuer) {
		argv[n++] = "-CA";
		argv[n++] = ca;
		argv[n++] = "-CAkey";
		argv[n++] = cakey;
	}
	argv[n] = NULL;
	return run_openssl(name, argv, e);
}

static void remove_generated(const char *dir)
{
	char p[PATH_MAX];
	for (int i = 0; i < GENERATED_FILES; i++)
		if (!path_in(p, sizeof p, dir, generated_files[i], NULL))
			unlink(p);
}

int nsm_ca_generate(const char *dir, const char *leaf_cn, struct cr_err *e)
{
	char cnf[PATH_MAX], p[PATH_MAX], subj[256];
	int rc;

	/* Longest name below is "intermediate.pem"; checking it bounds them all. */
	if (path_in(p, sizeof p, dir, "intermediate.pem", e) || path_in(cnf, sizeof cnf, dir, "ca.cnf", e))
		return -1;
	for (int i = 0; i < GENERATED_FILES; i++) {
		path_in(p, sizeof p, dir, generated_files[i], NULL);
		if (exists(p))
			return cr_fail(e, "%s exists already: a new CA is only made where there is none", p);
	}
	if (strpbrk(leaf_cn, "/=\\+,\n") || strlen(leaf_cn) > 64)
		return cr_fail(e, "leaf common name \"%s\": must be at most 64 characters without / = \\ + ,", leaf_cn);
	snprintf(subj, sizeof subj, "/O=cleanroom/OU=local NSM/CN=%s", leaf_cn);
	if (cr_write_file_atomic(cnf, ca_config, sizeof ca_config - 1, 0600, e))
		return -1;
	rc = make_cert(dir, cnf, "root", "/O=cleanroom/OU=local NSM test CA/CN=cleanroom local NSM root", "3650", NULL,
		       e) ||
	     make_cert(dir, cnf, "intermediate",
		       "/O=cleanroom/OU=local NSM test CA/CN=cleanroom local NSM intermediate", "3650", "root", e) ||
	     make_cert(dir, cnf, "leaf", subj, "365", "intermediate", e);
	unlink(cnf);
	if (rc) {
		remove_generated(dir); /* never half a CA */
		return cr_err_wrap(e, "making a test CA in %s", dir);
	}
	return 0;
}

/* ------------------------------------------------------------ loading */

/* The certificates of one PEM file: at least 1, at most max, nothing else. */
static int load_certs(const char *path, struct pem_list *l, size_t max, struct cr_err *e)
{
	if (pem_read_file(path, l, e))
		return -1;
	if (l->n > max)
		return cr_fail(e, "%s: %zu objects, at most %zu certificate%s expected", path, l->n, max,
			       max == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->obj[i].name, "CERTIFICATE"))
			return cr_fail(e, "%s: object %zu is \"%s\", expected CERTIFICATE", path, i + 1,
				       l->obj[i].name);
		if (l->obj[i].len > ATT_CERT_MAX)
			return cr_fail(e, "%s: certificate %zu is %zu bytes; attestation documents carry at most %d",
				       path, i + 1, l->obj[i].len, ATT_CERT_MAX);
	}
	return 0;
}

static int check_chain(struct nsm_ca *ca, struct cr_err *e)
{
	struct x509_chain *ch = malloc(sizeof *ch);
	char label[24];
	int rc = -1;

	if (!ch)
		return cr_fail(e, "out of memory");
	x509_chain_init(ch);
	if (x509_chain_add(ch, ca->leaf.p, ca->leaf.len, "leaf.pem", e))
		goto out;
	for (size_t i = ca->n_bundle; i-- > 1;) {
		snprintf(label, sizeof label, "intermediate.pem[%zu]", i - 1);
		if (x509_chain_add(ch, ca->bundle[i].p, ca->bundle[i].len, label, e))
			goto out;
	}
	if (x509_chain_add(ch, ca->bundle[0].p, ca->bundle[0].len, "root.pem", e))
		goto out;
	if (!ch->cert[0].key_is_ec || ch->cert[0].key.curve != BR_EC_secp384r1) {
		cr_fail(e, "leaf.pem: the key must be ECDSA P-384 (NSM signs ES384)");
		goto out;
	}
	if (ch->cert[0].key.q_len != ca->leaf_key.pub.q_len ||
	    memcmp(ch->cert[0].key.q, ca->leaf_key.pub.q, ca->leaf_key.pub.q_len)) {
		cr_fail(e, "leaf.key is not the key of leaf.pem");
		goto out;
	}
	ca->leaf_not_after = ch->cert[0].not_after;
	rc = x509_chain_verify(ch, (int64_t)time(NULL), e);
out:
	free(ch);
	return rc;
}

int nsm_ca_load(struct nsm_ca *ca, const char *dir, struct cr_err *e)
{
	char p[PATH_MAX];

	memset(ca, 0, sizeof *ca);
	/* Absolute, so that the root's path printed for verifiers works from
	 * any directory. */
	if (!realpath(dir, ca->dir))
		return cr_failp(e, "NSM test CA %s", dir);
	if (path_in(ca->root_path, sizeof ca->root_path, ca->dir, "root.pem", e))
		return -1;
	if (load_certs(ca->root_path, &ca->root_pem, 1, e))
		goto fail;
	path_in(p, sizeof p, dir, "intermediate.pem", NULL);
	if (load_certs(p, &ca->int_pem, ATT_MAX_CABUNDLE - 1, e))
		goto fail;
	path_in(p, sizeof p, dir, "leaf.pem", NULL);
	if (load_certs(p, &ca->leaf_pem, 1, e))
		goto fail;
	path_in(p, sizeof p, dir, "leaf.key", NULL);
	if (ec_key_load(&ca->leaf_key, p, e))
		goto fail;
	if (ca->leaf_key.pub.curve != BR_EC_secp384r1) {
		cr_fail(e, "%s: a %s key; NSM documents are signed with P-384 (ES384)", p,
			ec_curve_name(ca->leaf_key.pub.curve));
		goto fail;
	}
	ca->leaf = (struct att_bytes){ ca->leaf_pem.obj[0].der, ca->leaf_pem.obj[0].len };
	ca->bundle[0] = (struct att_bytes){ ca->root_pem.obj[0].der, ca->root_pem.obj[0].len };
	for (size_t i = 0; i < ca->int_pem.n; i++)
		ca->bundle[1 + i] = (struct att_bytes){ ca->int_pem.obj[i].der, ca->int_pem.obj[i].len };
	ca->n_bundle = 1 + ca->int_pem.n;
	if (check_chain(ca, e))
		goto fail;
	return 0;
fail:
	cr_err_wrap(e, "NSM test CA %s", dir);
	nsm_ca_free(ca);
	return -1;
}

int nsm_ca_open(struct nsm_ca *ca, const char *user_dir, const char *run_dir, const char *leaf_cn, struct cr_err *e)
{
	char p[PATH_MAX], dir[PATH_MAX];
	int present = 0, missing = -1;

	memset(ca, 0, sizeof *ca);
	if (user_dir) {
		for (int i = 0; i < CA_FILES; i++) {
			if (path_in(p, sizeof p, user_dir, ca_files[i], e))
				return -1;
			if (exists(p))
				present++;
			else if (missing < 0)
				missing = i;
		}
		if (present && missing >= 0)
			return cr_fail(e,
				       "--nsm-ca %s: %s is missing (expected root.pem, intermediate.pem, leaf.pem, "
				       "leaf.key; or none of them, and a new CA is made there)",
				       user_dir, ca_files[missing]);
		if (!present && nsm_ca_generate(user_dir, leaf_cn, e))
			return -1;
		if (nsm_ca_load(ca, user_dir, e))
			return -1;
		ca->generated = !present;
		return 0;
	}
	if (path_in(dir, sizeof dir, run_dir, NSM_CA_SUBDIR, e))
		return -1;
	if (mkdir(dir, 0700) != 0)
		return cr_failp(e, "%s", dir);
	if (nsm_ca_generate(dir, leaf_cn, e) || nsm_ca_load(ca, dir, e)) {
		remove_generated(dir);
		rmdir(dir);
		return -1;
	}
	ca->generated = 1;
	ca->remove_on_free = 1;
	return 0;
}

void nsm_ca_free(struct nsm_ca *ca)
{
	pem_free(&ca->root_pem);
	pem_free(&ca->int_pem);
	pem_free(&ca->leaf_pem);
	if (ca->remove_on_free && ca->dir[0]) {
		remove_generated(ca->dir);
		rmdir(ca->dir);
	}
	/* The private key stays in memory no longer than the CA. */
	memset(&ca->leaf_key, 0, sizeof ca->leaf_key);
	ca->remove_on_free = 0;
	ca->n_bundle = 0;
}
