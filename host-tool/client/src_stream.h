/* A directory as a wire-protocol stream (vsock/README.md): every directory,
 * file and symlink under root, in sorted order, as entry and data messages,
 * with the git tree ids computed from the very bytes sent. With sock -1
 * nothing is sent: that is how `cleanroom verify --source DIR` computes the
 * tree id of a directory, with the same code.
 *
 * '.git' (a repository or a submodule's link file) is skipped: the tree id
 * is that of the checkout, as `git rev-parse HEAD^{tree}` gives for a clean
 * one. Sockets, FIFOs and devices are refused, naming the path. */
#ifndef CLEANROOM_SRC_STREAM_H
#define CLEANROOM_SRC_STREAM_H

#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"
#include "vsock/wire.h"

struct src_stats {
	uint64_t files; /* entries: files, directories, symlinks */
	uint64_t bytes; /* file content bytes */
	uint8_t tree_sha1[CR_SHA1_LEN], tree_sha256[CR_SHA256_LEN];
};

/* Called now and then while sending (bytes sent so far, of total). */
typedef void (*src_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Count what a stream of root would hold, without reading contents. */
int src_stream_measure(const char *root, struct src_stats *out, struct cr_err *e);
/* Send (sock >= 0) or only hash (sock < 0) the stream; ends with the end
 * message when sending. progress may be NULL. */
int src_stream_send(const char *root, enum wire_stream which, int sock, uint64_t total_bytes, src_progress_fn progress,
		    void *ctx, struct src_stats *out, struct cr_err *e);

/* The stats of an empty stream (git's empty tree). */
int src_stream_empty(struct src_stats *out, struct cr_err *e);

#endif
