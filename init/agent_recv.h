/* Receiving a source or deps stream into the workspace (build agent).
 *
 * Entries are created under the stream's root directory fd and nowhere
 * else: every parent is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so neither '..' nor a symlink sent earlier can lead
 * a later entry outside; files are created O_EXCL|O_NOFOLLOW. Contents are
 * written as they arrive and hashed on the way (git blob ids, on a second
 * thread: rx_hasher.h); only paths and hashes stay in memory, never the
 * tree's contents.
 *
 * Refused, each with one line naming the path (and the limit): absolute
 * paths, '.', '..', '.git' or empty components (wire_check_path), an entry
 * whose parent was not sent as a directory, a path sent twice, a symlink
 * whose target is absolute or climbs out of the tree, more files or bytes
 * than the limits, data beyond a file's announced size. */
#ifndef CLEANROOM_AGENT_RECV_H
#define CLEANROOM_AGENT_RECV_H

#include <stdint.h>
#include <sys/types.h>

#include "init/rx_hasher.h"
#include "vsock/tree_hash.h"
#include "vsock/wire.h"

/* Received frames up to this size (a DATA message of WIRE_MAX_CHUNK bytes
 * and its CBOR head; most entries) are worth reusing buffers for (base/pool.h:
 * the session's reader takes them from its pool), and this many of them: the
 * hasher's queue, the message being received, a few in hand. The reader
 * reads ahead RX_READ_AHEAD bytes at a time. */
#define RX_FRAME_SIZE (WIRE_MAX_CHUNK + 4096)
#define RX_FRAME_POOL (RX_HASH_QUEUE + 4)
#define RX_READ_AHEAD (64u << 10)

/* What a failure was, for the error message's code. */
enum rx_fault { RX_OK, RX_PROTOCOL, RX_REFUSED, RX_LIMIT, RX_INTERNAL };

/* Both streams together. Besides the files and their bytes, the agent's
 * own memory for what it keeps of each entry until the end (its path in
 * the tree, twice for a symlink, the link's target, RX_META_ENTRY more):
 * a client that sends only names, long ones, must not fill the enclave's
 * RAM, where PID 1 is the one process the kernel could not kill. */
#define RX_META_ENTRY 128u
struct rx_budget {
	uint64_t max_files, max_bytes, max_meta;
	uint64_t files, bytes, meta; /* used so far */
};

struct stream_rx {
	enum wire_stream stream;
	int root_fd; /* the stream's root directory */
	uid_t uid;   /* owner of what is created */
	gid_t gid;
	int writable; /* files 0644/0755 (else read-only 0444/0555) */
	struct rx_budget *budget;
	uint64_t files, bytes; /* this stream's counts */
	struct tree_hasher tree;
	struct rx_hasher hash; /* hashes file data beside the receiving */
	char **links;          /* symlinks received, checked at the end */
	size_t nlinks;
	int parent_fd;                  /* the last parent directory opened, or -1 */
	char parent[WIRE_MAX_PATH + 1]; /* its path */
	mode_t umask;                   /* the process's, at rx_init */
	enum rx_fault fault;
};

void rx_init(struct stream_rx *rx, enum wire_stream s, int root_fd, uid_t uid, gid_t gid, int writable,
	     struct rx_budget *budget);
void rx_free(struct stream_rx *rx);
/* One entry; a file's data is read from rd (DATA messages). */
int rx_entry(struct stream_rx *rx, const struct wire_entry *x, struct wire_reader *rd, struct cr_err *e);
/* The stream's end: counts must match; fills the tree ids. */
int rx_end(struct stream_rx *rx, const struct wire_end *x, struct wire_accepted *out, struct cr_err *e);
/* A whole stream from rd (the connection's reader): entries (with their data) up to its end
 * message, which fills out. -1 with e and rx->fault set (RX_PROTOCOL for a
 * frame that is not an entry or end, or a connection that fails or closes). */
int rx_stream(struct stream_rx *rx, struct wire_reader *rd, struct wire_accepted *out, struct cr_err *e);

/* openat2(dirfd, path, flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS): path is opened only if it lies under dirfd with no
 * symlink on the way. */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode);

#endif
