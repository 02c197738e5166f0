# sandbox/: one build in namespaces, seccomp and cgroup limits; used by the
# build agent in the enclave and by `cleanroom sandbox-exec` on a host.
# Uses base/.
sandbox_SRCS := $(sort $(wildcard sandbox/*.c))
