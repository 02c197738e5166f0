# report/: the signed report — the in-toto statement with its SLSA
# provenance, the DSSE envelope, the bundle, and making one in the enclave.
# Uses base/, nsm/ and vsock/.
report_SRCS := $(sort $(wildcard report/*.c))
