# The layout suite: includes point the allowed way between folders (the
# Makefile's USES_*), no include cycles, and the compiler refuses a
# wrong-way include (tests/layout/check.py).
CHECK_UNIT_DEPS   += $(LAYER_STAMPS) $(B)/deps/host/.done
CHECK_UNIT_SUITES += 'layout=tests/layout/check.py $(B) $(CC)'
