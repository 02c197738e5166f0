# base/: what every program here uses — errors and bounded buffers, files
# read safely, CBOR read/write (libcbor), JSON, base64, PEM, EC keys
# (BearSSL), terminal-safe text, Unix sockets, a safe directory walk.
# Uses nothing else of the project.
base_SRCS := $(sort $(wildcard base/*.c))
