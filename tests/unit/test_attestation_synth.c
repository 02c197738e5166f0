/* Synthetic attestation documents signed by a test CA that openssl makes in
 * a temporary directory during the run (root -> intermediate -> leaf,
 * P-384; no key is ever committed). They cover what real documents do not:
 * indefinite maps, absent/null/empty/set optional fields, 32 PCRs and other
 * sizes, tagged COSE, high-S signatures, wrong algorithms, extra headers,
 * malformed payloads, and every chain rule (expired intermediate, leaf CA,
 * key usages, pathLen, foreign root). Also COSE_Sign1 with ES256/ES512. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nsm/attest_verify.h"
#include "base/cbor_read.h"
#include "base/cbor_write.h"
#include "tests/unit/check.h"
#include "base/pem.h"

/* The test PKI. Every certificate re-uses one of four keys, so a variant
 * (say, an intermediate without keyCertSign) still issues the same leaf. */
static const char pki_script[] =
	"set -e\n"
	"cd \"$1\"\n"
	"k() { openssl ecparam -name $2 -genkey -noout -out $1.key; }\n"
	"k root secp384r1; k int secp384r1; k leaf secp384r1; k leaf256 prime256v1\n"
	"openssl pkcs8 -topk8 -nocrypt -in leaf.key -out leaf.p8\n"
	"openssl req -x509 -new -key root.key -sha384 -days 3650 -subj '/O=cleanroom test/CN=test root' "
	"  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem\n"
	"openssl req -x509 -new -key root.key -sha384 -days 3650 -subj '/O=cleanroom test/CN=test root' "
	"  -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign -out "
	"root_pl0.pem\n"
	"openssl req -new -key int.key -subj '/O=cleanroom test/CN=test intermediate' -out int.csr\n"
	"openssl req -new -key leaf.key -subj '/O=cleanroom test/CN=i-0123456789abcdef0-enc0123456789abcdef' -out "
	"leaf.csr\n"
	"openssl req -new -key leaf256.key -subj '/O=cleanroom test/CN=p256 leaf' -out leaf256.csr\n"
	"cp root.key root_pl0.key\n"
	"serial=1\n"
	"x() { serial=$((serial + 1)); printf '%b' \"$4\" > $1.ext; "
	"  openssl x509 -req -in $2.csr -CA $3.pem -CAkey $3.key -set_serial $serial "
	"  -days $5 -sha384 -extfile $1.ext -out $1.pem 2>/dev/null; }\n"
	"CA='basicConstraints=critical,CA:TRUE,pathlen:0\\nkeyUsage=critical,keyCertSign\\n'\n"
	"x int int root \"$CA\" 3650\n"
	"x int_short int root \"$CA\" 1\n"
	"x int_pl int root_pl0 \"$CA\" 3650\n"
	"x int_noca int root 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,keyCertSign\\n' 3650\n"
	"x int_nosign int root 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,digitalSignature\\n' 3650\n"
	"LEAF='basicConstraints=critical,CA:FALSE\\nkeyUsage=digitalSignature,nonRepudiation\\n'\n"
	"x leaf leaf int \"$LEAF\" 30\n"
	"x leaf256 leaf256 int \"$LEAF\" 30\n"
	"x leaf_ca leaf int 'basicConstraints=critical,CA:TRUE\\nkeyUsage=digitalSignature\\n' 30\n"
	"x leaf_noku leaf int 'basicConstraints=critical,CA:FALSE\\n' 30\n"
	"x leaf_keyenc leaf int 'basicConstraints=critical,CA:FALSE\\nkeyUsage=keyEncipherment\\n' 30\n";

#define MAX_CERTS 16

static char dir[64];
static struct {
	char name[32];
	struct pem_list pem;
	const uint8_t *der;
	size_t len;
} certs[MAX_CERTS];
static size_t n_certs;
static struct ec_key leaf_key, int_key, leaf256_key;
static uint8_t pcr_values[32][64];
static struct att_verified res;
static int64_t now_s;

static int load_cert(const char *name, struct cr_err *e)
{
	char path[128];
	const struct pem_object *o;
	snprintf(path, sizeof path, "%s/%s.pem", dir, name);
	if (pem_read_file(path, &certs[n_certs].pem, e))
		return -1;
	o = pem_find(&certs[n_certs].pem, "CERTIFICATE");
	if (!o)
		return cr_fail(e, "%s: no certificate", path);
	snprintf(certs[n_certs].name, sizeof certs[n_certs].name, "%s", name);
	certs[n_certs].der = o->der;
	certs[n_certs].len = o->len;
	n_certs++;
	return 0;
}

static struct att_bytes cert(const char *name)
{
	struct att_bytes b = { NULL, 0 };
	for (size_t i = 0; i < n_certs; i++)
		if (!strcmp(certs[i].name, name)) {
			b.p = certs[i].der;
			b.len = certs[i].len;
		}
	return b;
}

static int setup(void)
{
	static const char *const names[] = { "root",    "root_pl0", "int",        "int_short",
					     "int_pl",  "int_noca", "int_nosign", "leaf",
					     "leaf256", "leaf_ca",  "leaf_noku",  "leaf_keyenc" };
	char cmd[256], path[128];
	struct cr_err e;
	FILE *f;
	snprintf(dir, sizeof dir, "/tmp/cr-attest-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/pki.sh", dir);
	f = fopen(path, "w");
	if (!f || fputs(pki_script, f) < 0 || fclose(f))
		return -1;
	snprintf(cmd, sizeof cmd, "sh %s %s >%s/log 2>&1", path, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof cmd, "sed 's/^/# /' %s/log", dir);
		if (system(cmd)) {
		}
		return -1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (load_cert(names[i], &e)) {
			printf("# %s\n", e.msg);
			return -1;
		}
	snprintf(path, sizeof path, "%s/leaf.key", dir);
	if (ec_key_load(&leaf_key, path, &e))
		return printf("# %s\n", e.msg), -1;
	snprintf(path, sizeof path, "%s/int.key", dir);
	if (ec_key_load(&int_key, path, &e))
		return printf("# %s\n", e.msg), -1;
	snprintf(path, sizeof path, "%s/leaf256.key", dir);
	if (ec_key_load(&leaf256_key, path, &e))
		return printf("# %s\n", e.msg), -1;
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j++)
			pcr_values[i][j] = (uint8_t)(i * 7 + j);
	return 0;
}

/* A valid document description: leaf <- int <- root, 16 PCRs, nulls. */
static void base_doc(struct att_doc *d)
{
	memset(d, 0, sizeof *d);
	strcpy(d->module_id, "i-0123456789abcdef0-enc0123456789abcdef");
	strcpy(d->digest, "SHA384");
	d->timestamp_ms = (uint64_t)now_s * 1000 + 123;
	for (unsigned i = 0; i < 16; i++) {
		d->pcrs[i].index = i;
		d->pcrs[i].value = pcr_values[i];
		d->pcrs[i].len = 48;
	}
	d->n_pcrs = 16;
	d->certificate = cert("leaf");
	d->cabundle[0] = cert("root");
	d->cabundle[1] = cert("int");
	d->n_cabundle = 2;
	d->public_key.state = d->user_data.state = d->nonce.state = ATT_NULL;
}

static void root_policy(struct att_policy *pol)
{
	struct att_bytes r = cert("root");
	memset(pol, 0, sizeof *pol);
	pol->root_der = r.p;
	pol->root_len = r.len;
}

/* Sign d with key into b; verify with pol. Returns "" or the message. */
static const char *sign_verify(const struct att_doc *d, const struct ec_key *key, const struct att_policy *pol,
			       struct cr_buf *b)
{
	static struct cr_err e;
	if (att_document_sign(d, key, b, &e))
		return e.msg;
	if (att_verify(b->p, b->len, pol, &res, &e))
		return e.msg;
	return "";
}

static const char *verify_buf(const struct cr_buf *b, const struct att_policy *pol)
{
	static struct cr_err e;
	if (att_verify(b->p, b->len, pol, &res, &e))
		return e.msg;
	return "";
}

#define T_PREFIX(got, prefix, ...)                                 \
 do {                                                              \
  const char *g_ = (got);                                          \
  int ok_ = !strncmp(g_, prefix, strlen(prefix));                  \
  if (!ok_)                                                        \
   printf("# got:  %s\n# want: %s...\n", g_, prefix);              \
  t_check(ok_, __FILE__, __LINE__, "prefix differs", __VA_ARGS__); \
 } while (0)

static void test_documents(void)
{
	struct att_doc d;
	struct att_policy pol;
	struct cr_buf b;
	const char *m;
	cr_buf_init(&b, ATT_DOC_MAX);

	base_doc(&d);
	root_policy(&pol);
	m = sign_verify(&d, &leaf_key, &pol, &b);
	T_STR(m, "", "a document signed by the test chain verifies with --root");
	T_OK(b.len > 8 && !memcmp(b.p, "\x84\x44\xa1\x01\x38\x22\xa0\x59", 8),
	     "it starts like NSM's: 84 44 a1013822 a0 59 (untagged, {1: -35}, {})");
	T_OK(res.at == now_s && res.chain.n == 3 && !res.d.doc.indefinite && res.d.doc.nonce.state == ATT_NULL,
	     "verified at its own timestamp; chain leaf, int, root; nulls decode as null");
	memset(&pol, 0, sizeof pol);
	T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b), "chain: cabundle[0] is not the trusted root",
		 "without --root the AWS root is required");

	base_doc(&d);
	d.indefinite = 1;
	root_policy(&pol);
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "an indefinite-length payload map verifies");
	T_OK(res.d.doc.indefinite && b.p[10] == 0xbf, "... and is decoded as indefinite (0xbf)");

	/* Optional fields: absent, null, empty, set, and what a policy matches. */
	base_doc(&d);
	d.public_key.state = ATT_ABSENT;
	d.user_data.state = ATT_SET;
	d.user_data.p = (const uint8_t *)"";
	d.user_data.len = 0;
	d.nonce.state = ATT_SET;
	d.nonce.p = (const uint8_t *)"nonce-1234";
	d.nonce.len = 10;
	root_policy(&pol);
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "absent public_key, empty user_data, set nonce verify");
	T_OK(res.d.doc.public_key.state == ATT_ABSENT && res.d.doc.user_data.state == ATT_SET &&
		     res.d.doc.user_data.len == 0 && res.d.doc.nonce.state == ATT_SET && res.d.doc.nonce.len == 10,
	     "... and decode as absent, empty and set");
	pol.nonce.set = 1;
	pol.nonce.p = (const uint8_t *)"nonce-1234";
	pol.nonce.len = 10;
	pol.user_data.set = 1;
	pol.user_data.p = (const uint8_t *)"";
	T_STR(verify_buf(&b, &pol), "", "an expected nonce and an expected empty user_data match");
	pol.public_key.set = 1;
	T_STR(verify_buf(&b, &pol), "public_key: mismatch (the document has absent)",
	      "an expected public_key fails on an absent one");
	pol.public_key.set = 0;
	d.user_data.state = ATT_NULL;
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "user_data: mismatch (the document has null)",
	      "an expected empty user_data does not match null");
	pol.nonce.len = 9;
	T_STR(verify_buf(&b, &pol), "nonce: mismatch (the document has 10 other bytes)", "a shorter nonce fails");
	base_doc(&d);
	d.public_key.state = ATT_SET;
	d.public_key.p = pcr_values[0];
	d.public_key.len = ATT_FIELD_MAX + 1;
	root_policy(&pol);
	{
		static uint8_t big[ATT_FIELD_MAX + 1];
		d.public_key.p = big;
		T_STR(sign_verify(&d, &leaf_key, &pol, &b), "payload: \"public_key\" is 1025 bytes (at most 1024)",
		      "a 1025-byte public_key is refused");
	}

	/* PCRs: 32 entries, 32- and 64-byte values; limits. */
	base_doc(&d);
	for (unsigned i = 0; i < 32; i++) {
		d.pcrs[i].index = 31 - i;
		d.pcrs[i].value = pcr_values[31 - i];
		d.pcrs[i].len = 48;
	}
	d.n_pcrs = 32;
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "32 PCRs verify");
	pol.n_pcrs = 2;
	pol.pcrs[0].index = 31;
	memcpy(pol.pcrs[0].value, pcr_values[31], 48);
	pol.pcrs[0].len = 48;
	pol.pcrs[1].index = 0;
	memcpy(pol.pcrs[1].value, pcr_values[0], 48);
	pol.pcrs[1].len = 48;
	T_STR(verify_buf(&b, &pol), "", "PCR 31 and PCR 0 match the policy");
	pol.pcrs[1].len = 32;
	T_PREFIX(verify_buf(&b, &pol), "pcr 0: mismatch (document 000102",
		 "a 32-byte expectation of a 48-byte PCR fails");
	root_policy(&pol);
	d.n_pcrs = 2;
	d.pcrs[0].len = 32;
	d.pcrs[1].len = 64;
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "32- and 64-byte PCR values verify");
	d.pcrs[1].len = 40;
	T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b), "payload: pcrs[30] is 40 bytes (must be 32, 48 or 64)",
		 "a 40-byte PCR is refused");
	d.pcrs[1].len = 48;
	d.pcrs[1].index = 32;
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "payload: pcrs: index 32 out of range 0..31",
	      "PCR index 32 is refused");
	d.n_pcrs = 0;
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "payload: pcrs has 0 entries (allowed 1..32)",
	      "no PCRs is refused");

	/* COSE envelope variants. */
	{
		struct cr_buf payload;
		struct cr_err e;
		struct cose_sign1_opts o = { 0 };
		static const uint8_t prot_es256[] = { 0xa1, 0x01, 0x26 };
		static const uint8_t prot_extra[] = { 0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x01 };
		static const uint8_t unprot_extra[] = { 0xa1, 0x04, 0x41, 0x01 };
		base_doc(&d);
		cr_buf_init(&payload, ATT_PAYLOAD_MAX);
		T_OK(att_payload_encode(&d, &payload, &e) == 0, "payload encodes");
		o.tagged = 1;
		T_OK(cose_sign1_sign_opts(&leaf_key, &o, payload.p, payload.len, &b, &e) == 0 && b.p[0] == 0xd2,
		     "a tagged COSE_Sign1 starts with 0xd2");
		T_STR(verify_buf(&b, &pol), "", "a tagged (18) document verifies");
		T_OK(res.d.cose.tagged, "... and is seen as tagged");
		o.tagged = 0;
		o.protected_hdr = prot_es256;
		o.protected_len = sizeof prot_es256;
		cose_sign1_sign_opts(&leaf_key, &o, payload.p, payload.len, &b, &e);
		T_STR(verify_buf(&b, &pol), "cose: algorithm -7 (ES256), attestation documents use ES384 (-35)",
		      "a wrong alg in the protected header is refused");
		o.protected_hdr = prot_extra;
		o.protected_len = sizeof prot_extra;
		cose_sign1_sign_opts(&leaf_key, &o, payload.p, payload.len, &b, &e);
		T_STR(verify_buf(&b, &pol), "cose: protected header must be exactly {1: -35} (it has 2 entries)",
		      "an extra protected header is refused");
		o.protected_hdr = NULL;
		o.unprotected = unprot_extra;
		o.unprotected_len = sizeof unprot_extra;
		cose_sign1_sign_opts(&leaf_key, &o, payload.p, payload.len, &b, &e);
		T_STR(verify_buf(&b, &pol), "cose: unprotected header must be empty (it has 1 entries)",
		      "an extra unprotected header is refused");
		cose_sign1_sign(&int_key, payload.p, payload.len, 0, &b, &e);
		T_STR(verify_buf(&b, &pol), "signature: ECDSA P-384 signature over the Sig_structure does not verify",
		      "a document signed by another key fails the signature");
		cose_sign1_sign(&leaf256_key, payload.p, payload.len, 0, &b, &e);
		T_STR(verify_buf(&b, &pol), "cose: algorithm -7 (ES256), attestation documents use ES384 (-35)",
		      "an ES256 document is refused");
		cose_sign1_sign(&leaf_key, payload.p, payload.len, 0, &b, &e);
		cr_buf_putc(&b, 0, &e);
		T_PREFIX(verify_buf(&b, &pol), "cose: COSE_Sign1: 1 trailing bytes after the CBOR item",
			 "a byte after the document is refused");
		b.len--;
		b.p[0] = 0x85;
		T_PREFIX(verify_buf(&b, &pol), "cose: COSE_Sign1: truncated at offset",
			 "an array that claims 5 elements is refused");
		b.p[0] = 0x83;
		T_PREFIX(verify_buf(&b, &pol), "cose: COSE_Sign1: ", "an array that claims 3 elements is refused");
		cr_buf_free(&payload);
	}
	cr_buf_free(&b);
}

/* s -> n - s for P-384 (test arithmetic on 48-byte big-endian numbers). */
static void negate_s(uint8_t *s)
{
	static const uint8_t n[48] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
				       0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73 };
	int borrow = 0;
	for (int i = 47; i >= 0; i--) {
		int v = n[i] - s[i] - borrow;
		borrow = v < 0;
		s[i] = (uint8_t)(v + (borrow ? 256 : 0));
	}
}

static void test_high_s(void)
{
	struct att_doc d;
	struct att_policy pol;
	struct cr_buf b;
	uint8_t *s;
	int high_before, high_after;
	cr_buf_init(&b, ATT_DOC_MAX);
	base_doc(&d);
	root_policy(&pol);
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "a fresh document verifies");
	s = b.p + b.len - 48;
	high_before = s[0] >= 0x80;
	negate_s(s);
	high_after = s[0] >= 0x80;
	T_OK(high_before != high_after || s[0] == 0x7f, "s and n - s fall on either side of n/2");
	T_STR(verify_buf(&b, &pol), "", "the same signature with s replaced by n - s still verifies (high S accepted)");
	s[47] ^= 1;
	T_PREFIX(verify_buf(&b, &pol), "signature: ", "and a changed s does not");
	cr_buf_free(&b);
}

static void test_chain_rules(void)
{
	static const struct {
		const char *leaf, *inter, *root;
		int64_t at_offset;
		const char *want;
		const char *name;
	} cases[] = {
		{ "leaf", "int", "root", 0, "", "the good chain" },
		{ "leaf", "int_short", "root", 2 * 86400, "chain: cabundle[1] (CN=test intermediate) expired at ",
		  "an expired intermediate fails, named" },
		{ "leaf", "int", "root", 31 * 86400,
		  "chain: leaf (CN=i-0123456789abcdef0-enc0123456789abcdef) expired at ",
		  "an expired leaf fails, named" },
		{ "leaf", "int", "root", -86400,
		  "chain: leaf (CN=i-0123456789abcdef0-enc0123456789abcdef) is not valid before ",
		  "a leaf before its validity fails" },
		{ "leaf", "int", "root", 11 * 365 * 86400, "chain: leaf", "far in the future everything is expired" },
		{ "leaf", "int", "root", 4294967296ll * 86400, "chain: verification time ",
		  "a time 2^32 days on (BearSSL's day count would wrap to today) is refused as past the year 9999" },
		{ "leaf_ca", "int", "root", 0,
		  "chain: leaf (CN=i-0123456789abcdef0-enc0123456789abcdef) is a CA certificate",
		  "a leaf that is a CA fails" },
		{ "leaf_noku", "int", "root", 0,
		  "chain: leaf (CN=i-0123456789abcdef0-enc0123456789abcdef) has no keyUsage",
		  "a leaf without keyUsage fails" },
		{ "leaf_keyenc", "int", "root", 0,
		  "chain: leaf (CN=i-0123456789abcdef0-enc0123456789abcdef) keyUsage lacks digitalSignature",
		  "a leaf without digitalSignature fails" },
		{ "leaf", "int_noca", "root", 0, "chain: cabundle[1] (CN=test intermediate) is not a CA",
		  "an intermediate that is not a CA fails" },
		{ "leaf", "int_nosign", "root", 0,
		  "chain: cabundle[1] (CN=test intermediate) keyUsage lacks keyCertSign",
		  "an intermediate without keyCertSign fails" },
		{ "leaf", "int_pl", "root_pl0", 0,
		  "chain: root (CN=test root) has pathLenConstraint 0 but 1 CA certificates below it",
		  "a root with pathLen 0 over an intermediate fails" },
		{ "leaf", "root", "root", 0, "chain: the issuer of leaf",
		  "a leaf not issued by the next certificate fails" },
	};
	struct att_doc d;
	struct att_policy pol;
	struct cr_buf b;
	cr_buf_init(&b, ATT_DOC_MAX);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct att_bytes r = cert(cases[i].root);
		base_doc(&d);
		d.certificate = cert(cases[i].leaf);
		d.cabundle[0] = r;
		d.cabundle[1] = cert(cases[i].inter);
		memset(&pol, 0, sizeof pol);
		pol.root_der = r.p;
		pol.root_len = r.len;
		pol.has_time = 1;
		pol.at = now_s + cases[i].at_offset;
		if (*cases[i].want)
			T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b), cases[i].want, "%s", cases[i].name);
		else
			T_STR(sign_verify(&d, &leaf_key, &pol, &b), "", "%s", cases[i].name);
	}
	/* One certificate in cabundle: leaf issued straight by the root. */
	base_doc(&d);
	d.certificate = cert("int");
	d.n_cabundle = 1;
	root_policy(&pol);
	T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b), "chain: leaf (CN=test intermediate) is a CA certificate",
		 "a one-entry cabundle chains leaf -> root (and here rejects a CA leaf)");
	/* The root again inside cabundle: the intermediate is signed by the
	 * root, so the chain must end there (it used to go on to the copy). */
	base_doc(&d);
	d.cabundle[1] = cert("root");
	d.cabundle[2] = cert("int");
	d.n_cabundle = 3;
	T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b),
		 "chain: cabundle[2] (CN=test intermediate) is signed by root directly, but the chain has 1 more "
		 "certificate",
		 "the root twice in cabundle (root, root, int) is refused: the chain ends where the root signs");
	/* A flipped byte inside the intermediate's signature. */
	{
		static uint8_t copy[2048];
		struct att_bytes in = cert("int");
		memcpy(copy, in.p, in.len);
		copy[in.len - 5] ^= 0x01;
		base_doc(&d);
		d.cabundle[1].p = copy;
		T_PREFIX(sign_verify(&d, &leaf_key, &pol, &b),
			 "chain: the signature of cabundle[1] (CN=test intermediate) does not verify with the key of "
			 "root",
			 "a corrupted intermediate signature is found by BearSSL and named");
		/* The chain and the document's signature are checked at the same
		 * time (att_verify); the outcome is that of checking in order. */
		T_PREFIX(sign_verify(&d, &int_key, &pol, &b),
			 "chain: the signature of cabundle[1] (CN=test intermediate) does not verify",
			 "a bad chain and a bad signature together: the chain's failure is reported");
	}
	/* A P-256 leaf certificate (a valid chain), the document signed with a
	 * P-384 key: the curve is named, not the signature. */
	base_doc(&d);
	d.certificate = cert("leaf256");
	T_STR(sign_verify(&d, &leaf_key, &pol, &b), "signature: the leaf key is not P-384, which ES384 needs",
	      "a P-256 leaf is refused for its curve");
	cr_buf_free(&b);
}

/* Re-encode the payload of a valid document with one top-level entry
 * changed: dropped (value NULL), replaced by raw CBOR, or written twice. */
static const char *payload_variant(const char *key, const char *value_hex, int twice)
{
	static struct cr_err e;
	struct att_doc d;
	struct cr_buf p, q, b;
	struct cbr_doc c;
	struct cbor_w w;
	struct att_policy pol;
	static const struct cbr_limits lim = { 512, 8 };
	uint8_t raw[64];
	size_t raw_len = 0;
	const char *m = "";
	base_doc(&d);
	root_policy(&pol);
	cr_buf_init(&p, ATT_PAYLOAD_MAX);
	cr_buf_init(&q, ATT_PAYLOAD_MAX);
	cr_buf_init(&b, ATT_DOC_MAX);
	if (value_hex && !strcmp(value_hex, "NOW8")) {
		/* The document's timestamp in the 8-byte form real NSMs use. */
		raw[0] = 0x1b;
		for (int i = 0; i < 8; i++)
			raw[1 + i] = (uint8_t)(d.timestamp_ms >> (56 - 8 * i));
		raw_len = 9;
	} else if (value_hex && cr_unhex_var(value_hex, raw, sizeof raw, &raw_len)) {
		return "bad hex";
	}
	if (att_payload_encode(&d, &p, &e) || cbr_parse(p.p, p.len, &lim, "test", &c, &e))
		return e.msg;
	cw_init(&w, &q);
	cw_map(&w, (size_t)c.items[0].v - (!value_hex && !twice) + !!twice);
	CBR_MAP_FOREACH(&c, 0, k, v)
	{
		int hit = cbr_text_is(&c, k, key);
		if (hit && !value_hex && !twice)
			continue;
		for (int n = 0; n < (hit && twice ? 2 : 1); n++) {
			cw_raw(&w, p.p + c.items[k].off, c.items[k].raw_len);
			if (hit && value_hex)
				cw_raw(&w, raw, raw_len);
			else
				cw_raw(&w, p.p + c.items[v].off, c.items[v].raw_len);
		}
	}
	cbr_free(&c);
	if (cw_finish(&w, &e) || cose_sign1_sign(&leaf_key, q.p, q.len, 0, &b, &e) ||
	    att_verify(b.p, b.len, &pol, &res, &e))
		m = e.msg;
	cr_buf_free(&p);
	cr_buf_free(&q);
	cr_buf_free(&b);
	return m;
}

static void test_payload_rules(void)
{
	static const struct {
		const char *key, *value_hex;
		int twice;
		const char *want;
	} cases[] = {
		{ "nonce", "f6", 0, "" },
		{ "module_id", NULL, 0, "payload: missing \"module_id\"" },
		{ "module_id", "60", 0, "payload: \"module_id\" must be 1..255 bytes of text without NUL" },
		{ "module_id", "f6", 0, "payload: \"module_id\" must be a text string, not null" },
		{ "digest", "66534841323536", 0, "payload: \"digest\" is \"SHA256\", must be \"SHA384\"" },
		{ "digest", NULL, 0, "payload: missing \"digest\"" },
		{ "timestamp", "00", 0, "payload: \"timestamp\" is 0" },
		{ "timestamp", "20", 0, "payload: \"timestamp\" must be an unsigned integer, not a negative integer" },
		{ "timestamp", "NOW8", 0, "" },
		{ "pcrs", "80", 0, "payload: \"pcrs\" must be a map, not an array" },
		{ "pcrs", "a10041ff", 0, "payload: pcrs[0] is 1 bytes (must be 32, 48 or 64)" },
		{ "pcrs", "a1614100", 0, "payload: pcrs: a key is a text string, not an unsigned integer" },
		{ "pcrs", "a100f6", 0, "payload: pcrs[0] must be a byte string, not null" },
		{ "certificate", NULL, 0, "payload: missing \"certificate\"" },
		{ "certificate", "40", 0, "payload: \"certificate\" is 0 bytes (allowed 1..1024)" },
		{ "certificate", "6161", 0, "payload: \"certificate\" must be a byte string, not a text string" },
		{ "cabundle", "80", 0, "payload: cabundle has 0 entries (allowed 1..16)" },
		{ "cabundle", "8101", 0, "payload: cabundle[0] must be a byte string, not an unsigned integer" },
		{ "cabundle", NULL, 0, "payload: missing \"cabundle\"" },
		{ "public_key", "01", 0,
		  "payload: \"public_key\" must be a byte string or null, not an unsigned integer" },
		{ "user_data", NULL, 0, "" },
		{ "nonce", NULL, 1, "payload: map at offset 0 has the key \"nonce\" twice" },
		{ "digest", NULL, 1, "payload: map at offset 0 has the key \"digest\" twice" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *m = payload_variant(cases[i].key, cases[i].value_hex, cases[i].twice);
		if (*cases[i].want)
			T_STR(m, cases[i].want, "payload with %s %s%s is refused", cases[i].key,
			      cases[i].twice       ? "twice"
			      : cases[i].value_hex ? "= "
						   : "missing",
			      cases[i].value_hex ? cases[i].value_hex : "");
		else
			T_STR(m, "", "payload with %s %s%s verifies", cases[i].key,
			      cases[i].value_hex ? "= " : "missing", cases[i].value_hex ? cases[i].value_hex : "");
	}
}

/* COSE_Sign1 on its own, as the EIF signature uses it: ES256/384/512. */
static void test_cose(void)
{
	struct ec_key k521, k384b;
	struct cr_buf b, ss;
	struct cr_err e;
	struct cose_sign1 m;
	uint8_t seed[32] = { 1 };
	static const uint8_t payload[] = "PcrInfo payload";
	static const uint8_t big[300];
	char hex[80];
	const struct ec_key *keys[3] = { &leaf256_key, &leaf_key, &k521 };
	static const int64_t algs[3] = { COSE_ALG_ES256, COSE_ALG_ES384, COSE_ALG_ES512 };
	T_OK(ec_key_generate(&k521, BR_EC_secp521r1, seed, sizeof seed, &e) == 0, "a P-521 key from a seed");
	seed[0] = 2;
	T_OK(ec_key_generate(&k384b, BR_EC_secp384r1, seed, sizeof seed, &e) == 0, "a second P-384 key");
	T_OK(ec_key_generate(&k384b, BR_EC_secp384r1, seed, 16, &e) == -1, "a 16-byte seed is refused");
	cr_buf_init(&b, 4096);
	for (int i = 0; i < 3; i++) {
		struct ec_key other;
		const char *name = cose_alg_name(algs[i]);
		seed[0] = (uint8_t)(10 + i);
		ec_key_generate(&other, keys[i]->pub.curve, seed, sizeof seed, &e);
		T_OK(cose_sign1_sign(keys[i], payload, sizeof payload, 0, &b, &e) == 0 &&
			     cose_sign1_parse(b.p, b.len, &m, &e) == 0 && m.alg == algs[i] && m.n_protected == 1,
		     "%s: signs, the alg is picked from the key", name);
		T_OK(cose_sign1_verify(&m, &keys[i]->pub, &e) == 0, "%s: verifies with the key", name);
		T_OK(cose_sign1_verify(&m, &other.pub, &e) == -1 && strstr(e.msg, "does not verify"),
		     "%s: fails with another key of the curve", name);
		T_OK(cose_sign1_verify(&m, &keys[(i + 1) % 3]->pub, &e) == -1 && strstr(e.msg, "does not match"),
		     "%s: a key of another curve is refused (%s)", name, e.msg);
		b.p[b.len - 60] ^= 1;
		T_OK(cose_sign1_parse(b.p, b.len, &m, &e) == 0 && cose_sign1_verify(&m, &keys[i]->pub, &e) == -1,
		     "%s: a changed signature fails", name);
	}
	cr_buf_init(&ss, 1024);
	T_OK(cose_sig_structure((const uint8_t *)"\xa1\x01\x38\x22", 4, big, sizeof big, &ss, &e) == 0 &&
		     ss.len == 21 + 300,
	     "Sig_structure of a 300-byte payload is 321 bytes");
	cr_hex(ss.p, 20, hex);
	T_STR(hex, "846a5369676e61747572653144a1013822405901",
	      "Sig_structure prefix: 84 6a \"Signature1\" 44 a1013822 40 59");
	cr_buf_free(&ss);
	cr_buf_free(&b);
	T_OK(cose_sign1_parse((const uint8_t *)"\xd3\x80", 2, &m, &e) == -1 &&
		     strstr(e.msg, "tag 19 is not COSE_Sign1"),
	     "tag 19 is refused (%s)", e.msg);
	T_OK(cose_sign1_parse((const uint8_t *)"\x84\x41\xff\xa0\x40\x40", 6, &m, &e) == -1 &&
		     strstr(e.msg, "protected header: unexpected break"),
	     "a protected header that is not CBOR is refused (%s)", e.msg);
	T_OK(cose_sign1_parse((const uint8_t *)"\x84\x41\x01\xa0\x40\x40", 6, &m, &e) == -1 &&
		     strstr(e.msg, "protected header must be a map, not an unsigned integer"),
	     "a protected header that is not a map is refused (%s)", e.msg);
	T_OK(cose_sign1_parse((const uint8_t *)"\x84\x40\xa0\x40\x40", 5, &m, &e) == 0 && !m.has_alg &&
		     cose_sign1_verify(&m, &leaf_key.pub, &e) == -1 && strstr(e.msg, "no algorithm"),
	     "an empty protected header has no algorithm (%s)", e.msg);
	T_OK(cose_sign1_parse((const uint8_t *)"\x84\x44\xa1\x01\x61\x61\xa0\x40\x40", 9, &m, &e) == -1 &&
		     strstr(e.msg, "alg (label 1) must be an integer, not "),
	     "a text alg is refused (%s)", e.msg);
	T_OK(cose_sign1_parse((const uint8_t *)"\x84\x4b\xa1\x01\x3b\xff\xff\xff\xff\xff\xff\xff\xff\xa0\x40\x40", 16,
			      &m, &e) == -1 &&
		     strstr(e.msg, "alg (label 1) is out of the 64-bit signed range"),
	     "an alg of -2^64 is refused as out of range, not as 'not an integer' (%s)", e.msg);
}

/* QEMU's emulated NSM's shape: COSE_Sign1 with protected {1: -1}, empty
 * unprotected, SIGLEN bytes of signature (zero unless sig_byte), over a
 * payload whose certificate and cabundle are zero (unless cert_byte). */
static void unsigned_doc(struct cr_buf *out, const uint8_t *payload, size_t n, size_t siglen, uint8_t sig_byte,
			 int64_t alg, int extra_unprotected)
{
	static uint8_t sig[128];
	struct cbor_w w;
	uint8_t prot[8];
	size_t np;
	struct cr_buf ph;
	struct cr_err e;
	memset(sig, 0, sizeof sig);
	sig[siglen / 2] = sig_byte;
	cr_buf_init(&ph, 64);
	cw_init(&w, &ph);
	cw_map(&w, 1);
	cw_int(&w, 1);
	cw_int(&w, alg);
	T_OK(cw_finish(&w, &e) == 0 && ph.len <= sizeof prot, "unsigned shape: protected header encodes");
	np = ph.len;
	memcpy(prot, ph.p, np);
	cr_buf_free(&ph);
	cr_buf_init(out, ATT_DOC_MAX);
	cw_init(&w, out);
	cw_tag(&w, 18);
	cw_array(&w, 4);
	cw_bytes(&w, prot, np);
	cw_map(&w, extra_unprotected ? 1 : 0);
	if (extra_unprotected) {
		cw_int(&w, 4);
		cw_bytes(&w, "kid", 3);
	}
	cw_bytes(&w, payload, n);
	cw_bytes(&w, sig, siglen);
	T_OK(cw_finish(&w, &e) == 0, "unsigned shape: document encodes");
}

/* Only QEMU's exact unsigned shape is "unsigned" (refused by default with
 * its own message and code, accepted with allow_unsigned); every near miss
 * fails the cose check as any malformed document does. */
static void test_unsigned(void)
{
	static const uint8_t zeros[64];
	struct att_doc d;
	struct att_policy pol;
	struct cr_buf payload, b;
	struct cr_err e;
	const struct {
		const char *what;
		int zero_cert;
		size_t siglen;
		uint8_t sig_byte;
		int64_t alg;
		int extra_unprotected;
	} near[] = {
		{ "a signature byte that is not zero", 1, 64, 1, -1, 0 },
		{ "a 96-byte zero signature", 1, 96, 0, -1, 0 },
		{ "a certificate that is not zero", 0, 64, 0, -1, 0 },
		{ "an unprotected header that is not empty", 1, 64, 0, -1, 1 },
		{ "alg -7 (ES256) with a zero signature", 1, 64, 0, -7, 0 },
	};
	root_policy(&pol);
	base_doc(&d);
	d.certificate.p = zeros;
	d.certificate.len = sizeof zeros;
	d.cabundle[0].p = d.cabundle[1].p = zeros;
	d.cabundle[0].len = d.cabundle[1].len = sizeof zeros;
	cr_buf_init(&payload, ATT_DOC_MAX);
	T_OK(att_payload_encode(&d, &payload, &e) == 0, "unsigned shape: payload with zero certificates encodes");
	unsigned_doc(&b, payload.p, payload.len, 64, 0, -1, 0);
	T_OK(att_verify(b.p, b.len, &pol, &res, &e) == -1 && e.code == CR_E_UNSIGNED && res.unsigned_doc &&
		     strstr(e.msg, ATT_UNSIGNED_MSG),
	     "QEMU's unsigned document is refused by default, by its code and name (%s)", e.msg);
	pol.allow_unsigned = 1;
	T_OK(att_verify(b.p, b.len, &pol, &res, &e) == 0 && res.unsigned_doc,
	     "with allow_unsigned it passes everything else, marked unsigned");
	cr_buf_free(&b);
	for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
		struct cr_buf p2;
		base_doc(&d);
		if (near[i].zero_cert) {
			d.certificate.p = zeros;
			d.certificate.len = sizeof zeros;
		}
		d.cabundle[0].p = d.cabundle[1].p = zeros;
		d.cabundle[0].len = d.cabundle[1].len = sizeof zeros;
		cr_buf_init(&p2, ATT_DOC_MAX);
		T_OK(att_payload_encode(&d, &p2, &e) == 0, "near miss: payload encodes");
		unsigned_doc(&b, p2.p, p2.len, near[i].siglen, near[i].sig_byte, near[i].alg,
			     near[i].extra_unprotected);
		T_OK(att_verify(b.p, b.len, &pol, &res, &e) == -1 && e.code != CR_E_UNSIGNED && !res.unsigned_doc &&
			     !strcmp(res.check, "cose"),
		     "near miss, %s: fails the cose check even with allow_unsigned (%s)", near[i].what, e.msg);
		cr_buf_free(&b);
		cr_buf_free(&p2);
	}
	cr_buf_free(&payload);
}

int main(void)
{
	char cmd[128];
	struct cr_err e;
	if (system("openssl version >/dev/null 2>&1") != 0) {
		t_skip("openssl is not installed", "synthetic attestation documents");
		return t_done();
	}
	if (setup()) {
		T_OK(0, "openssl made the test PKI in %s", dir);
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd)) {
		}
		return t_done();
	}
	now_s = (int64_t)time(NULL); /* not before the last certificate's notBefore */
	T_OK(1, "openssl made the test PKI (%zu certificates)", n_certs);
	{
		struct ec_key p8;
		char path[128];
		snprintf(path, sizeof path, "%s/leaf.p8", dir);
		T_OK(ec_key_load(&p8, path, &e) == 0 && p8.pub.q_len == leaf_key.pub.q_len &&
			     !memcmp(p8.pub.q, leaf_key.pub.q, p8.pub.q_len) && leaf_key.pub.q_len == 97,
		     "a PKCS#8 key loads to the same P-384 key as its SEC1 form");
		snprintf(path, sizeof path, "%s/root.pem", dir);
		T_OK(ec_key_load(&p8, path, &e) == -1 && strstr(e.msg, "no \"EC PRIVATE KEY\""),
		     "a certificate is not a key (%s)", e.msg);
	}
	T_OK(att_document_sign(&(struct att_doc){ 0 }, &leaf256_key, &(struct cr_buf){ 0 }, &e) == -1 &&
		     strstr(e.msg, "must be P-384"),
	     "att_document_sign refuses a P-256 key");
	test_documents();
	test_high_s();
	test_chain_rules();
	test_payload_rules();
	test_cose();
	test_unsigned();
	for (size_t i = 0; i < n_certs; i++)
		pem_free(&certs[i].pem);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
	}
	return t_done();
}
