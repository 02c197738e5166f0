# Benchmarks: ratios measured in one run, printed; never asserted in tests.
.PHONY: bench bench-eif-pack
bench: bench-eif-pack
bench-eif-pack: deps $(B)/cleanroom $(B)/init
	@CLEANROOM=$(B)/cleanroom INIT=$(B)/init bench/eif-pack.sh
