# The layout suite: includes point the allowed way between folders (the
# Makefile's USES_*), no include cycles, and the compiler refuses a
# wrong-way include (tests/layout/check.py).
CHECK_UNIT_DEPS   += $(LAYER_STAMPS) $(B)/deps/host/.done
CHECK_UNIT_SUITES += 'layout=tests/layout/check.py $(B) $(CC)'

# The format suite: every C file of ours is as clang-format leaves it
# (.clang-format at the root); `make format` formats the tree.
APT_PKGS += clang-format-14
# Tracked files and new ones not yet added (a new file is formatted before
# its first commit); $(wildcard) drops files deleted but not yet committed.
FORMAT_FILES = $(wildcard $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null | \
                 grep -v -e '^kernel-config/' -e '^demo/'))
CHECK_UNIT_SUITES += 'format=tests/layout/format.sh clang-format-14'
.PHONY: format
format:
	@clang-format-14 -i $(FORMAT_FILES)
