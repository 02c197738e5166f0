# vsock/: the build protocol spoken over vsock — AF_VSOCK transport, wire
# frames, git tree ids of what is sent. Uses base/.
vsock_SRCS := $(sort $(wildcard vsock/*.c))
