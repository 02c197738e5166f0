/* cleanroom vsock-bridge: run the vhost-user vsock back-end on its own, for
 * a QEMU started by hand (cleanroom run starts one itself). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "host-tool/commands.h"
#include "host-tool/run/evloop.h"
#include "base/term.h"
#include "host-tool/run/vsock_bridge.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom vsock-bridge --vhost-socket PATH --uds PATH [--cid N]\n"
		"\n"
		"Serve QEMU's vhost-user-vsock-device: connect the guest's vsock to host\n"
		"Unix sockets, Firecracker style. Runs in the foreground until SIGINT or\n"
		"SIGTERM, or until QEMU disconnects when --exit-on-disconnect is given.\n"
		"\n"
		"  --vhost-socket PATH   vhost-user socket to create; give QEMU\n"
		"                        -chardev socket,id=vs,path=PATH\n"
		"                        -device vhost-user-vsock-device,chardev=vs\n"
		"                        (guest RAM must be shared: memory-backend-memfd,share=on)\n"
		"  --uds PATH            host side: programs connect to PATH and write\n"
		"                        \"CONNECT <port>\\n\" to reach a guest port (reply\n"
		"                        \"OK <hostport>\\n\"); a guest connection to port P of\n"
		"                        CID 3 (the Nitro parent) or 2 goes to PATH_P\n"
		"  --cid N               guest CID (default %d; 4..4294967294)\n"
		"  --exit-on-disconnect  end when QEMU closes the vhost-user connection\n"
		"\n"
		"Both socket paths are created (they must not exist) and removed at exit.\n"
		"Exit status: 0 stopped by a signal or disconnect, 1 failure, 2 usage error.\n"
		"\n"
		"example:\n"
		"  cleanroom vsock-bridge --vhost-socket /tmp/vhost.sock --uds /tmp/v.sock &\n"
		"  qemu-system-x86_64 -M microvm -m 512M \\\n"
		"    -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \\\n"
		"    -global virtio-mmio.force-legacy=false \\\n"
		"    -chardev socket,id=vs,path=/tmp/vhost.sock -device vhost-user-vsock-device,chardev=vs ...\n",
		VSOCK_DEFAULT_GUEST_CID);
}

struct bridge_run {
	struct evloop loop;
	struct evsrc sig;
	struct vsock_bridge *br;
	int exit_on_disconnect;
};

static void on_signal(struct evsrc *s, uint32_t events)
{
	struct bridge_run *r = EVLOOP_OWNER(s, struct bridge_run, sig);
	struct signalfd_siginfo si;
	(void)events;
	if (read(s->fd, &si, sizeof si) == (ssize_t)sizeof si)
		evloop_stop(&r->loop);
}

static void check_disconnect(void *ctx)
{
	struct bridge_run *r = ctx;
	if (r->exit_on_disconnect && vsock_bridge_disconnected(r->br))
		evloop_stop(&r->loop);
}

int cmd_vsock_bridge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vhost-socket", required_argument, NULL, 'v' },
		{ "uds", required_argument, NULL, 'u' },
		{ "cid", required_argument, NULL, 'c' },
		{ "exit-on-disconnect", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct vsock_bridge_cfg cfg = { .guest_cid = VSOCK_DEFAULT_GUEST_CID };
	struct bridge_run r = { .exit_on_disconnect = 0 };
	struct cr_err e;
	uint64_t v;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'v': cfg.vhost_path = optarg; break;
		case 'u': cfg.uds_path = optarg; break;
		case 'c':
			if (cr_parse_u64(optarg, UINT32_MAX - 1, &v) || v < 4) {
				cr_tprintf(stderr, "cleanroom vsock-bridge: --cid %s: expected 4..4294967294\n",
					   optarg);
				return 2;
			}
			cfg.guest_cid = v;
			break;
		case 'x': r.exit_on_disconnect = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !cfg.vhost_path || !cfg.uds_path) {
		cr_tprintf(stderr, "cleanroom vsock-bridge: --vhost-socket and --uds are required (see --help)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (evloop_init(&r.loop, &e) ||
	    evloop_add_signals(&r.loop, &r.sig, sigs, (int)(sizeof sigs / sizeof sigs[0]), on_signal, NULL, &e) ||
	    vsock_bridge_start(&r.br, &r.loop, &cfg, &e) || evloop_add_hook(&r.loop, check_disconnect, &r, &e) ||
	    evloop_run(&r.loop, &e)) {
		cr_tprintf(stderr, "cleanroom vsock-bridge: %s\n", e.msg);
		rc = 1;
	}
	vsock_bridge_stop(r.br);
	if (r.sig.registered)
		close(r.sig.fd);
	evloop_free(&r.loop);
	return rc;
}
