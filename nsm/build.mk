# nsm/: the NSM client (/dev/nsm), the NSM protocol's CBOR messages, and
# attestation documents — parse, COSE_Sign1, the X.509 chain, verification.
# Uses base/.
nsm_SRCS := $(sort $(wildcard nsm/*.c))
