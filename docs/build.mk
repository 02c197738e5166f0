# docs/: the reference (Markdown) and the manual pages (scdoc).
#
#   make man    renders docs/man/*.scd into $(B)/man/*.1 and *.5
#               (man -l build/man/cleanroom.1); `make install` installs them
#               into $(PREFIX)/share/man/man1 and man5.
#
# The check suite docs/man (docs/check.py) renders every page, checks that
# each option a command's --help lists is in that command's page, that
# README.md stays short and that the docs' relative links resolve.
APT_PKGS += scdoc python3

MAN_SRCS  := $(sort $(wildcard docs/man/*.scd))
MAN_PAGES := $(patsubst docs/man/%.scd,$(B)/man/%,$(MAN_SRCS))
MAN1      := $(filter %.1,$(MAN_PAGES))
MAN5      := $(filter %.5,$(MAN_PAGES))
# The pages' date: the last commit of their sources, so a render is reproducible.
MAN_EPOCH := $(shell git log -1 --format=%ct -- docs/man 2>/dev/null)

.PHONY: man
man: $(MAN_PAGES)

$(B)/man/%: docs/man/%.scd | deps-apt
	@mkdir -p $(@D)
	@echo "  SCDOC   $@"
	@$(if $(MAN_EPOCH),SOURCE_DATE_EPOCH=$(MAN_EPOCH)) scdoc <$< >$@.tmp && mv $@.tmp $@

install: man
INSTALL_EXTRA += { install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 && \
                   install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/ && \
                   install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/; } || exit 1;

CHECK_DEPS   += $(B)/cleanroom
CHECK_SUITES += 'docs/man=docs/check.py $(B)/cleanroom'
