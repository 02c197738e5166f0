# Bootstrap mode on the AWS-flavour kernel (make kernel-aws): /sys/fs/cgroup
# as AWS's init mounts it (tmpfs + one cgroup v1 hierarchy per controller).
# AWS_INIT=PATH (AWS's init, built from its public source: docs/init.md)
# adds the side-by-side comparison with AWS's own init. In check-slow: the
# suite takes 20 s, but a fresh machine first builds a second kernel.
SLOW_DEPS   += $(B)/asan/cleanroom $(KERNEL_AWS_OUTPUTS) $(B)/init
SLOW_SUITES += 'qemu/aws-kernel=tests/qemu/aws-kernel.sh $(B)/asan/cleanroom $(KERNEL_AWS_DIR) $(B)/init $(AWS_INIT)'
