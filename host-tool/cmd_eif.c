/* cleanroom eif: pack an enclave image file, reproducibly. */
#include <getopt.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-tool/commands.h"
#include "host-tool/eif/bulk_crc32.h"
#include "host-tool/eif/datadir.h"
#include "host-tool/eif/eif_meta.h"
#include "host-tool/eif/eif_sign.h"
#include "host-tool/eif/eif.h"
#include "host-tool/eif/eif_write.h"
#include "host-tool/eif/measurements.h"
#include "host-tool/eif/oci_apply.h"
#include "host-tool/eif/oci_unpack.h"
#include "base/term.h"

#define CMDLINE_MAX 2047 /* the kernel's COMMAND_LINE_SIZE is 2048 with the NUL */
#define LIST_FILE_MAX (1u << 20)

/* nitro-cli's default cmdlines (blobs/<arch>/cmdline, trimmed). */
static const char default_cmdline_x86_64[] =
	"reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd "
	"random.trust_cpu=on";
static const char default_cmdline_aarch64[] =
	"reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0";

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom eif [--kernel FILE] [--init FILE] --rootfs DIR -o OUT.eif [options]\n"
		     "                     [--cmd ARG... | --cmd-file FILE]\n"
		     "       cleanroom eif --oci PATH[:TAG|@DIGEST] -o OUT.eif [--agent] [options]\n"
		     "\n"
		     "Pack an enclave image file (EIF v4, as nitro-cli builds) from a kernel, the init, a\n"
		     "root filesystem directory and a command. No Docker, no linuxkit. The same inputs give\n"
		     "the same bytes on any machine: sorted cpio entries, fixed mtimes (SOURCE_DATE_EPOCH,\n"
		     "default 0), uid/gid 0, sequential inodes, normalised modes (0755 if executable, else\n"
		     "0644; directories 0755; setuid/setgid/sticky dropped), no host names or paths.\n"
		     "\n"
		     "Layout: kernel, cmdline, metadata, ramdisk 0 (dev/, init, nsm.ko if given),\n"
		     "ramdisk 1 (rootfs/ = DIR plus rootfs/{dev,run,sys,var,proc,tmp}, and cmd + env when a\n"
		     "command is given), signature when signed. Without a command the image has no /cmd and\n"
		     "cleanroom's init starts as a build agent; with one it behaves like AWS's init.\n"
		     "\n"
		     "required (one of --rootfs, --oci):\n"
		     "  --rootfs DIR         tree packed under rootfs/ (regular files, dirs, symlinks only)\n"
		     "  --oci PATH[:TAG|@DIGEST]\n"
		     "                       a container image instead of DIR: an OCI layout directory, an\n"
		     "                       OCI archive or a 'docker save' archive; TAG or the manifest's\n"
		     "                       DIGEST chooses one image, --arch the platform of an index. Its\n"
		     "                       layers are checked and applied in a private temporary directory\n"
		     "                       (under $TMPDIR), packed as --rootfs would pack it, then removed.\n"
		     "                       The command is the config's Cmd, else its Entrypoint (not both,\n"
		     "                       as nitro-cli), the environment its Env; ImageName and\n"
		     "                       ImageVersion default to the image's name and Id, DockerInfo\n"
		     "                       records the image (see docs/oci.md)\n"
		     "  -o, --output FILE    the EIF to write (written atomically; nothing on failure)\n"
		     "options:\n"
		     "  --kernel FILE        bzImage (x86_64) or Image (aarch64); default: the installed one\n"
		     "  --init FILE          the enclave's /init; default: the installed one\n"
		     "  --cmdline STR        kernel command line (measured in PCR0/PCR1)\n"
		     "  --cmdline-file FILE  same, read from a file, surrounding whitespace trimmed\n"
		     "                       default: nitro-cli's cmdline for the architecture\n"
		     "  --nsm-ko FILE|local  NSM driver loaded by init; 'local' = the installed mock-NSM shim,\n"
		     "                       for 'cleanroom run' (on Nitro, use AWS's nsm.ko or none with a\n"
		     "                       kernel that has CONFIG_NSM)\n"
		     "  --cmd ARG...         the command, one argv element per argument; must come last\n"
		     "  --cmd-file FILE      the command, one argv element per line (nitro-cli's cmd file)\n"
		     "  --env-file FILE      environment, one KEY=VALUE per line\n"
		     "  --agent              with --oci: no command (a build agent image), even if the image\n"
		     "                       has one\n"
		     "  --max-unpacked SIZE  with --oci: refuse an image whose layers hold more file bytes\n"
		     "                       than SIZE (bytes, or with K, M, G suffix; default 4G)\n"
		     "  --no-image-info      with --oci: DockerInfo null and the --name/--version defaults,\n"
		     "                       so the EIF equals the --rootfs one of the same tree\n"
		     "  --name NAME          ImageName in the metadata (default: cleanroom-enclave; with --oci\n"
		     "                       the image's name up to the first ':')\n"
		     "  --version VER        ImageVersion in the metadata (default: 1.0; with --oci the image\n"
		     "                       Id, the config digest without 'sha256:')\n"
		     "  --metadata FILE      JSON object stored as CustomMetadata (at most 4096 bytes)\n"
		     "  --arch ARCH          x86_64 (default) or aarch64\n"
		     "  --sign-key KEY.pem   sign PCR0 with this EC private key (P-256/384/521; PEM)...\n"
		     "  --sign-cert CERT.pem ...whose certificate goes into the image; adds PCR8\n"
		     "  --timings            print where the time went on stderr (planning, reading,\n"
		     "                       CRC, waiting, disk writes and syncs, each hashing\n"
		     "                       thread, the final fsync)\n"
		     "  -h, --help           this text\n"
		     "\n"
		     "Prints the measurements as nitro-cli does:\n"
		     "  {\"Measurements\": {\"HashAlgorithm\": \"Sha384 { ... }\", \"PCR0\": …, \"PCR1\": …,\n"
		     "   \"PCR2\": …[, \"PCR8\": …]}}\n"
		     "Defaults (kernel, init, --nsm-ko local) are the files 'make install' puts in\n"
		     "PREFIX/lib/cleanroom/ARCH/ (bzImage or Image, init, nsm.ko), looked up next to this\n"
		     "program (BIN/../lib/cleanroom/ARCH/), then in the build tree it was run from\n"
		     "(build/kernel/, build/init).\n"
		     "Exit status: 0 written, 1 failed (one line on stderr says why), 2 usage error. An\n"
		     "image written whose measurements could not be printed (stdout full) stays: 1,\n"
		     "and stderr says so.\n"
		     "\n"
		     "example:\n"
		     "  cleanroom eif --rootfs rootfs/ -o app.eif --cmd /bin/sh -c 'echo hello'\n"
		     "  cleanroom eif --kernel build/kernel/bzImage --init build/init --nsm-ko local \\\n"
		     "      --rootfs build/rootfs-c -o agent.eif\n"
		     "  cleanroom eif --oci app.tar:app:latest -o app.eif\n");
}

/* Validate a list file (cmd or env): entries separated by '\n'. */
static int load_list(const char *path, int is_env, uint8_t **data, size_t *len, struct cr_err *e)
{
	size_t line = 1, start = 0;
	if (cr_read_file(path, LIST_FILE_MAX, data, len, e))
		return -1;
	if (memchr(*data, 0, *len))
		return cr_fail(e, "%s: contains a NUL byte", path);
	for (size_t i = 0; i <= *len; i++) {
		if (i < *len && (*data)[i] != '\n')
			continue;
		if (i == *len && i == start)
			break; /* file ends with a newline (or is empty) */
		if (is_env) {
			const uint8_t *eq = memchr(*data + start, '=', i - start);
			if (!eq || eq == *data + start)
				return cr_fail(e, "%s: line %zu: expected KEY=VALUE", path, line);
		}
		line++;
		start = i + 1;
	}
	/* Canonical form: every entry ends with '\n'. */
	if (*len && (*data)[*len - 1] != '\n') {
		uint8_t *p = realloc(*data, *len + 2);
		if (!p)
			return cr_fail(e, "out of memory");
		*data = p;
		p[(*len)++] = '\n';
		p[*len] = 0;
	}
	return 0;
}

static int cmd_from_args(char **args, int n, struct cr_buf *out, struct cr_err *e)
{
	for (int i = 0; i < n; i++) {
		if (strchr(args[i], '\n'))
			return cr_fail(e,
				       "--cmd: argument %d contains a newline (the cmd file is one argument per line)",
				       i + 1);
		if (cr_buf_printf(out, e, "%s\n", args[i]))
			return -1;
	}
	return 0;
}

static int load_cmdline_file(const char *path, struct cr_buf *out, struct cr_err *e)
{
	uint8_t *d;
	size_t len, a = 0;
	if (cr_read_file(path, 65536, &d, &len, e))
		return -1;
	while (a < len && strchr(" \t\r\n", d[a]))
		a++;
	while (len > a && strchr(" \t\r\n", d[len - 1]))
		len--;
	if (cr_buf_put(out, d + a, len - a, e)) {
		free(d);
		return -1;
	}
	free(d);
	return 0;
}

static int check_cmdline(const struct cr_buf *c, struct cr_err *e)
{
	if (c->len == 0)
		return cr_fail(e, "cmdline: empty");
	if (c->len > CMDLINE_MAX)
		return cr_fail(e, "cmdline: %zu bytes exceeds the kernel's limit of %d", c->len, CMDLINE_MAX);
	for (size_t i = 0; i < c->len; i++)
		if (c->p[i] < 0x20 || c->p[i] == 0x7f)
			return cr_fail(e, "cmdline: control character 0x%02x at byte %zu", c->p[i], i);
	return 0;
}

struct eif_opts {
	const char *kernel, *init, *rootfs, *output, *cmdline, *cmdline_file, *nsm_ko, *cmd_file, *env_file;
	const char *name, *version, *metadata, *arch, *sign_key, *sign_cert, *oci;
	char **cmd_args;
	int cmd_n;
	int name_set, version_set, agent, no_image_info, timings, max_unpacked_set;
	uint64_t max_unpacked;
};

static int parse_args(int argc, char **argv, struct eif_opts *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "init", required_argument, NULL, 'i' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "cmdline-file", required_argument, NULL, 'C' },
		{ "nsm-ko", required_argument, NULL, 'n' },
		{ "cmd-file", required_argument, NULL, 'F' },
		{ "env-file", required_argument, NULL, 'E' },
		{ "name", required_argument, NULL, 'N' },
		{ "version", required_argument, NULL, 'V' },
		{ "metadata", required_argument, NULL, 'M' },
		{ "arch", required_argument, NULL, 'a' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "sign-cert", required_argument, NULL, 'S' },
		{ "oci", required_argument, NULL, 'O' },
		{ "agent", no_argument, NULL, 'A' },
		{ "max-unpacked", required_argument, NULL, 'X' },
		{ "no-image-info", no_argument, NULL, 'I' },
		{ "timings", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	memset(o, 0, sizeof *o);
	o->name = "cleanroom-enclave";
	o->version = "1.0";
	o->arch = "x86_64";
	o->max_unpacked = OCI_DEFAULT_MAX_UNPACKED;
	/* Everything after --cmd is the command. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cmd")) {
			o->cmd_args = argv + i + 1;
			o->cmd_n = argc - i - 1;
			argc = i;
			if (o->cmd_n == 0) {
				cr_tprintf(stderr, "cleanroom eif: --cmd needs at least one argument\n");
				return 2;
			}
			break;
		}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->init = optarg; break;
		case 'r': o->rootfs = optarg; break;
		case 'o': o->output = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'C': o->cmdline_file = optarg; break;
		case 'n': o->nsm_ko = optarg; break;
		case 'F': o->cmd_file = optarg; break;
		case 'E': o->env_file = optarg; break;
		case 'N':
			o->name = optarg;
			o->name_set = 1;
			break;
		case 'V':
			o->version = optarg;
			o->version_set = 1;
			break;
		case 'O': o->oci = optarg; break;
		case 'A': o->agent = 1; break;
		case 'I': o->no_image_info = 1; break;
		case 'T': o->timings = 1; break;
		case 'X':
			o->max_unpacked_set = 1;
			if (cr_parse_size(optarg, &o->max_unpacked) || o->max_unpacked == 0) {
				cr_tprintf(stderr,
					   "cleanroom eif: --max-unpacked '%s': expected bytes > 0, or a "
					   "number with K, M or G\n",
					   cr_term_arg(optarg));
				return 2;
			}
			break;
		case 'M': o->metadata = optarg; break;
		case 'a': o->arch = optarg; break;
		case 'K': o->sign_key = optarg; break;
		case 'S': o->sign_cert = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		cr_tprintf(stderr, "cleanroom eif: unexpected argument '%s' (a command goes after --cmd)\n",
			   argv[optind]);
		return 2;
	}
	if (!!o->rootfs == !!o->oci || !o->output) {
		cr_tprintf(stderr, "cleanroom eif: -o and one of --rootfs, --oci are required (see --help)\n");
		return 2;
	}
	if (!*o->output) {
		cr_tprintf(stderr, "cleanroom eif: -o: an empty path names no file\n");
		return 2;
	}
	if (cr_path_names_dir(o->output)) {
		cr_tprintf(stderr, "cleanroom eif: -o %s: names a directory, not a file\n", cr_term_arg(o->output));
		return 2;
	}
	if (!o->oci && (o->agent || o->no_image_info || o->max_unpacked_set)) {
		cr_tprintf(stderr, "cleanroom eif: --agent, --no-image-info and --max-unpacked go with --oci\n");
		return 2;
	}
	if (o->agent && (o->cmd_args || o->cmd_file || o->env_file)) {
		cr_tprintf(stderr, "cleanroom eif: --agent means no command: not with --cmd, --cmd-file, --env-file\n");
		return 2;
	}
	if (o->cmdline && o->cmdline_file) {
		cr_tprintf(stderr, "cleanroom eif: give --cmdline or --cmdline-file, not both\n");
		return 2;
	}
	if (o->cmd_args && o->cmd_file) {
		cr_tprintf(stderr, "cleanroom eif: give --cmd or --cmd-file, not both\n");
		return 2;
	}
	if (o->env_file && !o->cmd_args && !o->cmd_file && !o->oci) {
		cr_tprintf(stderr, "cleanroom eif: --env-file needs a command (--cmd or --cmd-file)\n");
		return 2;
	}
	if (!!o->sign_key != !!o->sign_cert) {
		cr_tprintf(stderr, "cleanroom eif: --sign-key and --sign-cert go together\n");
		return 2;
	}
	if (strcmp(o->arch, "x86_64") && strcmp(o->arch, "aarch64")) {
		cr_tprintf(stderr, "cleanroom eif: --arch '%s': expected x86_64 or aarch64\n", o->arch);
		return 2;
	}
	if (!*o->name || !*o->version) {
		cr_tprintf(stderr, "cleanroom eif: --name and --version must not be empty\n");
		return 2;
	}
	return -1;
}

/* Everything the packer needs, owned in one place so cleanup is one call. */
struct eif_job {
	struct cr_buf cmdline, meta, cmd;
	uint8_t *cmd_file, *env_file, *custom_text;
	size_t cmd_len, env_len, custom_len;
	struct json_doc custom;
	struct cpio_plan boot, customer;
	struct eif_signer signer;
	int have_signer;
	char kernel[4096], init[4096], nsm_ko[4096]; /* the defaults found, when used */
	/* --oci: the private directory, what the image says, its metadata. */
	struct oci_tmp tmp;
	struct oci_image *img;
	struct eif_image_info info;
	char rootfs[4200], image_name[OCI_NAME_MAX + 1], image_id[OCI_DIGEST_TEXT_MAX + 1];
};

static void job_free(struct eif_job *j)
{
	cr_buf_free(&j->cmdline);
	cr_buf_free(&j->meta);
	cr_buf_free(&j->cmd);
	free(j->cmd_file);
	free(j->env_file);
	free(j->custom_text);
	json_free(&j->custom);
	cpio_plan_free(&j->boot);
	cpio_plan_free(&j->customer);
	if (j->have_signer)
		eif_signer_free(&j->signer);
	if (j->img)
		oci_image_free(j->img);
	free(j->img);
	oci_tmp_remove(&j->tmp);
}

/* --oci: unpack the image and take its defaults (nitro-cli's): ImageName
 * is the reference up to its first ':', ImageVersion the image Id. */
static int prepare_oci(const struct eif_opts *o, struct eif_job *j, const char **name, const char **version,
		       struct cr_err *e)
{
	struct oci_image *img = j->img = calloc(1, sizeof *j->img);
	if (!img)
		return cr_fail(e, "out of memory");
	if (oci_unpack(o->oci, o->arch, o->max_unpacked, &j->tmp, img, j->rootfs, sizeof j->rootfs, e))
		return -1;
	if (o->no_image_info)
		return 0;
	snprintf(j->image_name, sizeof j->image_name, "%.*s", (int)strcspn(img->ref, ":"), img->ref);
	snprintf(j->image_id, sizeof j->image_id, "%s", strchr(img->config_digest.text, ':') + 1);
	if (!o->name_set && j->image_name[0])
		*name = j->image_name;
	if (!o->version_set)
		*version = j->image_id;
	j->info = (struct eif_image_info){ img->config_digest.text, img->ref,
					   img->has_manifest_digest ? img->manifest_digest.text : NULL, img->arch,
					   img->os };
	return 0;
}

/* A default input: the installed file, or an error that says where it was
 * looked for and that the option names another. */
static int default_file(const char *arch, const char *name, const char *opt, char *out, size_t n, struct cr_err *e)
{
	char msg[sizeof e->msg];
	if (cr_data_file(arch, name, out, n, e) == 0)
		return 0;
	memcpy(msg, e->msg, sizeof msg);
	return cr_fail(e, "%s not given and the default %s; give %s FILE", opt, msg, opt);
}

/* The packer adds rootfs/dev, proc, ... as directories (the init mounts
 * on them); a tree with one of them as anything else would otherwise be
 * refused as "the same archive path twice" without saying which is which. */
static int check_mount_points(const struct eif_opts *o, const char *rootfs, const char *const dirs[], size_t n,
			      struct cr_err *e)
{
	char path[4096];
	struct stat st;
	for (size_t i = 0; i < n; i++) {
		const char *d = dirs[i] + strlen("rootfs/");
		if (snprintf(path, sizeof path, "%s/%s", rootfs, d) >= (int)sizeof path)
			return cr_fail(e, "--rootfs: path too long");
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (o->oci)
				return cr_fail(e,
					       "--oci: the image's /%s is %s; the enclave needs a directory there "
					       "(the init mounts on it)",
					       d, cr_file_kind(st.st_mode));
			return cr_fail(
				e, "--rootfs: %s is %s; the enclave needs a directory there (the init mounts on it)",
				path, cr_file_kind(st.st_mode));
		}
	}
	return 0;
}

static int prepare(const struct eif_opts *o, struct eif_job *j, struct eif_write_input *in, struct cr_err *e)
{
	static const char *const rootfs_dirs[] = { "rootfs/dev", "rootfs/run",  "rootfs/sys",
						   "rootfs/var", "rootfs/proc", "rootfs/tmp" };
	struct eif_meta_input mi;
	char kver[64];
	const char *kernel = o->kernel, *init = o->init, *nsm_ko = o->nsm_ko;
	const char *name = o->name, *version = o->version, *rootfs = o->rootfs;
	uint64_t sde;
	int arm = !strcmp(o->arch, "aarch64");

	/* The defaults: the installed files for the architecture (datadir.h). */
	if (!kernel) {
		if (default_file(o->arch, cr_data_kernel_name(o->arch), "--kernel", j->kernel, sizeof j->kernel, e))
			return -1;
		kernel = j->kernel;
	}
	if (!init) {
		if (default_file(o->arch, "init", "--init", j->init, sizeof j->init, e))
			return -1;
		init = j->init;
	}
	if (nsm_ko && !strcmp(nsm_ko, "local")) {
		if (cr_data_file(o->arch, "nsm.ko", j->nsm_ko, sizeof j->nsm_ko, e))
			return cr_err_wrap(e, "--nsm-ko local");
		nsm_ko = j->nsm_ko;
	}

	if (eif_source_date_epoch(&sde, e))
		return -1;
	cpio_plan_init(&j->boot, (uint32_t)sde);
	cpio_plan_init(&j->customer, (uint32_t)sde);

	/* The kernel: type and size now, before anything is read (it is read
	 * again, through the same check, when the image is written). */
	{
		int fd = cr_open_input("--kernel", kernel, EIF_KERNEL_MAX, 0, NULL, e);
		if (fd < 0)
			return -1;
		close(fd);
	}

	/* Kernel command line. */
	if (o->cmdline_file && load_cmdline_file(o->cmdline_file, &j->cmdline, e))
		return cr_err_wrap(e, "--cmdline-file");
	if (!o->cmdline_file && cr_buf_printf(&j->cmdline, e, "%s",
					      o->cmdline ? o->cmdline
					      : arm      ? default_cmdline_aarch64
							 : default_cmdline_x86_64))
		return -1;
	if (check_cmdline(&j->cmdline, e))
		return -1;

	/* Metadata. */
	if (o->metadata) {
		struct json_limits lim = { EIF_CUSTOM_METADATA_MAX, 16, 1024 };
		if (cr_read_file(o->metadata, EIF_CUSTOM_METADATA_MAX, &j->custom_text, &j->custom_len, e))
			return cr_err_wrap(e, "--metadata");
		if (json_parse((char *)j->custom_text, j->custom_len, &lim, &j->custom, e))
			return cr_err_wrap(e, "--metadata %s", o->metadata);
		if (j->custom.root->type != JSON_OBJECT)
			return cr_fail(e, "--metadata %s: must be a JSON object", o->metadata);
	}
	eif_kernel_version(kernel, kver, sizeof kver);
	if (o->oci) {
		if (prepare_oci(o, j, &name, &version, e))
			return -1;
		rootfs = j->rootfs;
	}
	mi = (struct eif_meta_input){
		name, version, sde, kver, o->arch, j->custom.root, o->oci && !o->no_image_info ? &j->info : NULL
	};
	if (eif_meta_build(&mi, &j->meta, e))
		return -1;

	/* Ramdisk 0: the bootstrap. */
	if (cpio_add_dir(&j->boot, "dev", e))
		return -1;
	if (cpio_add_file(&j->boot, "init", init, 1, e))
		return cr_err_wrap(e, "--init");
	if (nsm_ko && cpio_add_file(&j->boot, "nsm.ko", nsm_ko, 1, e))
		return cr_err_wrap(e, "--nsm-ko");
	if (cpio_plan_finish(&j->boot, e))
		return -1;

	/* Ramdisk 1: the customer's root filesystem, command and environment. */
	if (check_mount_points(o, rootfs, rootfs_dirs, sizeof rootfs_dirs / sizeof rootfs_dirs[0], e))
		return -1;
	if (cpio_add_tree(&j->customer, "rootfs", rootfs, e))
		return o->oci ? -1 : cr_err_wrap(e, "--rootfs");
	for (size_t i = 0; i < sizeof rootfs_dirs / sizeof rootfs_dirs[0]; i++)
		if (cpio_add_dir(&j->customer, rootfs_dirs[i], e))
			return -1;
	if (o->cmd_args || o->cmd_file || (o->oci && !o->agent)) {
		const uint8_t *cmd, *env = NULL;
		size_t cmd_len, env_len = 0;
		if (o->cmd_file) {
			if (load_list(o->cmd_file, 0, &j->cmd_file, &j->cmd_len, e))
				return cr_err_wrap(e, "--cmd-file");
			cmd = j->cmd_file;
			cmd_len = j->cmd_len;
		} else if (o->cmd_args) {
			if (cmd_from_args(o->cmd_args, o->cmd_n, &j->cmd, e))
				return -1;
			cmd = j->cmd.p;
			cmd_len = j->cmd.len;
		} else if (j->img->has_cmd) {
			cmd = j->img->cmd.p;
			cmd_len = j->img->cmd.len;
		} else {
			/* As nitro-cli: no CMD and no ENTRYPOINT is an error. */
			return cr_fail(e,
				       "--oci %s: the image config has neither Cmd nor Entrypoint; give --cmd "
				       "(or --agent for a build-agent image without a command)",
				       cr_term_arg(o->oci));
		}
		if (o->env_file) {
			if (load_list(o->env_file, 1, &j->env_file, &j->env_len, e))
				return cr_err_wrap(e, "--env-file");
			env = j->env_file;
			env_len = j->env_len;
		} else if (o->oci) {
			env = j->img->env.p;
			env_len = j->img->env.len;
		}
		if (cpio_add_mem(&j->customer, "cmd", 0, cmd, cmd_len, e) ||
		    cpio_add_mem(&j->customer, "env", 0, env, env_len, e))
			return -1;
	}
	if (cpio_plan_finish(&j->customer, e))
		return -1;

	if (o->sign_key) {
		if (eif_signer_load(&j->signer, o->sign_key, o->sign_cert, e))
			return -1;
		j->have_signer = 1;
	}

	memset(in, 0, sizeof *in);
	in->kernel_path = kernel;
	in->cmdline = j->cmdline.p;
	in->cmdline_len = j->cmdline.len;
	in->metadata = j->meta.p;
	in->metadata_len = j->meta.len;
	in->ramdisks[0] = &j->boot;
	in->ramdisks[1] = &j->customer;
	in->num_ramdisks = 2;
	in->flags = arm ? EIF_FLAG_ARM64 : 0;
	if (j->have_signer) {
		in->sign = eif_signer_sign;
		in->sign_ctx = &j->signer;
	}
	return 0;
}

static double sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* --timings: the reading thread's stages, the chunk writer's, then each
 * hasher's busy and CPU time. The stages overlap (that is the point), so
 * they do not add up. */
static void print_timings(const struct eif_write_stats *st, uint64_t plan_ns)
{
	fprintf(stderr,
		"timings: %.1f MB in %.3f s: plan (walk, stat) %.3f s; write pass %.3f s: read %.3f, crc %.3f (%s), "
		"waiting for hashers %.3f, for the disk %.3f; disk writes %.3f s (%.1f MB with O_DIRECT), "
		"background fdatasync %.3f s; hash PCR0 %.3f s (cpu %.3f), PCR1+PCR2 %.3f s (cpu %.3f) with %s "
		"SHA-384; fsync+rename %.3f s\n",
		(double)st->bytes / 1e6, sec(plan_ns + st->total_ns), sec(plan_ns), sec(st->total_ns - st->commit_ns),
		sec(st->read_ns), sec(st->crc_ns), bulk_crc32_impl(), sec(st->stall_ns), sec(st->disk_wait_ns),
		sec(st->write_ns), (double)st->direct_bytes / 1e6, sec(st->sync_ns), sec(st->hash_busy_ns[0]),
		sec(st->hash_cpu_ns[0]), sec(st->hash_busy_ns[1]), sec(st->hash_cpu_ns[1]), st->sha384_impl,
		sec(st->commit_ns));
}

int cmd_eif(int argc, char **argv)
{
	struct eif_opts o;
	struct eif_job j;
	struct eif_write_input in;
	struct eif_pcrs pcrs;
	struct eif_write_stats st;
	struct cr_err e;
	uint64_t t0 = cr_mono_ns(), t_plan = 0;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	memset(&j, 0, sizeof j);
	j.tmp.fd = -1;
	cr_buf_init(&j.cmdline, CMDLINE_MAX + 1);
	cr_buf_init(&j.meta, EIF_METADATA_MAX);
	cr_buf_init(&j.cmd, LIST_FILE_MAX);
	cr_tmpfile_cleanup_on_signals();
	rc = 1;
	if (prepare(&o, &j, &in, &e) == 0) {
		t_plan = cr_mono_ns() - t0;
		in.stats = o.timings ? &st : NULL;
		/* The image is complete and in place before its measurements
		 * are printed: a failed print says so, and leaves it. */
		if (eif_write(o.output, &in, &pcrs, &e) == 0)
			rc = print_measurements(&pcrs, &e)
				? cr_err_wrap(&e, "%s is written, its measurements could not be printed", o.output),
			1 : 0;
	}
	if (rc == 0 && o.timings)
		print_timings(&st, t_plan);
	if (rc)
		cr_tprintf(stderr, "cleanroom eif: %s\n", e.msg);
	job_free(&j);
	return rc;
}
