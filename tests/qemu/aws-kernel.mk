# Bootstrap mode on the AWS-flavour kernel (make kernel-aws): /sys/fs/cgroup
# as AWS's init mounts it (tmpfs + one cgroup v1 hierarchy per controller).
# AWS_INIT=PATH (AWS's init, built from its public source: docs/init.md)
# adds the side-by-side comparison with AWS's own init.
QEMU_DEPS   += $(B)/asan/cleanroom $(KERNEL_AWS_OUTPUTS) $(B)/init
QEMU_SUITES += 'qemu/aws-kernel=tests/qemu/aws-kernel.sh $(B)/asan/cleanroom $(KERNEL_AWS_DIR) $(B)/init $(AWS_INIT)'
