# The one build.  make: bin/*; make check: sanitizer build + every test;
# make run: the server with etc/dev.conf in the foreground; make bench.
#
# Two variants share the sources: "release" (bin/, -O2) and "check"
# (build/check/bin/, AddressSanitizer + UndefinedBehaviorSanitizer),
# each with its own objects under build/.

CC	?= cc
PKGS	 = openssl libsasl2 sqlite3 libcrypt libcares gmime-3.0 libseccomp \
	   gumbo libevent libevent_openssl zlib
# -isystem: warnings in GLib's headers are not ours to fix
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-missing-field-initializers \
	   -Wno-format-truncation
BASE	 = -std=c11 -D_GNU_SOURCE -g -MMD -MP $(WARN) $(PKG_CFLAGS)

VARIANT	?= release
ifeq ($(VARIANT),check)
OPT	 = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
BINDIR	 = build/check/bin
UNITDIR	 = t/unit
else
OPT	 = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
BINDIR	 = bin
UNITDIR	 = build/release/unit
endif
OBJDIR	 = build/$(VARIANT)
CFLAGS	+= $(BASE) $(OPT)
LDFLAGS	+= $(OPT)
# libunistring (lib/casemap.c) ships no pkg-config file
LDLIBS	 = $(PKG_LIBS) -lspf2 -lunistring -lresolv -lpthread

# Shared code as one static library: lib/ (knows no mail), global/ (the
# mail system's shared knowledge) and maildir/ (the store).
LIB_DIRS   = lib global maildir
LIB_SRCS   = $(filter-out $(LIB_DIRS:%=%/test-%.c),\
	     $(wildcard $(LIB_DIRS:%=%/*.c)))
LIB_OBJS   = $(LIB_SRCS:%.c=$(OBJDIR)/%.o)
LIBMAIL	   = $(OBJDIR)/libmail.a

# program = the folder its sources live in
PROGRAMS   = maild authd smtpd queued mailctl pop3d imapd webmail
maild_DIR   = maild
authd_DIR   = authd
smtpd_DIR   = smtpd
queued_DIR  = queue
mailctl_DIR = mailctl
pop3d_DIR   = pop3d
imapd_DIR   = imapd
webmail_DIR = webmail

UNIT_SRCS  = $(wildcard $(LIB_DIRS:%=%/test-*.c) imapd/test-*.c \
	     webmail/test-*.c)
# imapd's parts without its main(), for its unit tests and fuzzer; the
# webmail's parts that need no process around them (HTML, forms), for
# its unit tests and fuzzers
IMAPD_PARTS = $(filter-out imapd/imapd.c imapd/test-%.c,$(wildcard imapd/*.c))
WEBMAIL_PARTS = webmail/escape.c webmail/sanitize.c webmail/form.c \
		webmail/pages.c
UNIT_TESTS = $(patsubst %.c,$(UNITDIR)/%.t,$(notdir $(UNIT_SRCS)))

.PHONY: all programs check unit run bench fuzz fuzz-run deps clean
# Keep the objects of the unit tests between runs.
.SECONDARY:
# The programs are built by a second make that reads this file after
# tools/install-deps has run: PKG_CFLAGS and PKG_LIBS ask pkg-config when
# the file is read, and on a fresh machine nothing is installed before.
all: deps
	@$(MAKE) --no-print-directory programs
programs: $(addprefix $(BINDIR)/,$(PROGRAMS))
unit: $(UNIT_TESTS)

deps:
	@tools/install-deps

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The webmail's static files are assembled into it (.incbin).
$(OBJDIR)/webmail/assets.o: $(wildcard webmail/static/*)

$(LIBMAIL): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

define program_rule
$(BINDIR)/$(1): $$(patsubst %.c,$(OBJDIR)/%.o,$$(filter-out $$($(1)_DIR)/test-%.c,$$(wildcard $$($(1)_DIR)/*.c))) $(LIBMAIL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# One rule per test, from its own source: a pattern rule per folder
# would take whichever folder a stale dependency file still names (a
# test that moved).  Two tests of one name in different folders are an
# error.  imapd's tests link imapd's parts, the webmail's its own.
UNIT_DUPS = $(sort $(foreach t,$(UNIT_TESTS),\
	    $(if $(filter-out 1,$(words $(filter $(t),$(UNIT_TESTS)))),$(t))))
$(if $(UNIT_DUPS),$(error two unit tests of one name: $(UNIT_DUPS)))
define unit_rule
$(UNITDIR)/$(notdir $(1:.c=.t)): $(OBJDIR)/$(1:.c=.o) $(if $(filter imapd/%,$(1)),$(IMAPD_PARTS:%.c=$(OBJDIR)/%.o)) $(if $(filter webmail/%,$(1)),$(WEBMAIL_PARTS:%.c=$(OBJDIR)/%.o)) $(LIBMAIL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(UNIT_SRCS),$(eval $(call unit_rule,$(s))))

# make check: everything built with sanitizers, then one runner over the
# unit tests and the integration tests (which use build/check/bin).
check: deps
	@$(MAKE) --no-print-directory VARIANT=check programs unit
	MAILD_BINDIR=$(CURDIR)/build/check/bin \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	prove --exec '' --timer $(PROVE_FLAGS) t/unit/*.t t/*.t

run: all
	tools/run-dev

# make fuzz: every fuzz/fuzz-*.c as a libFuzzer binary (clang, ASan+UBSan),
# each run for FUZZ_SECONDS from its seed corpus in fuzz/corpus/<name>/.
FUZZ_SECONDS ?= 60
FUZZ_SRCS = $(wildcard fuzz/fuzz-*.c)
FUZZERS	  = $(FUZZ_SRCS:fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 $(PKG_CFLAGS) \
	     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
build/fuzz/%: fuzz/%.c fuzz/fuzz.h $(LIB_SRCS) $(IMAPD_PARTS) \
	    $(WEBMAIL_PARTS) \
	    $(wildcard $(LIB_DIRS:%=%/*.h) imapd/*.h webmail/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(IMAPD_PARTS) \
	    $(WEBMAIL_PARTS) $(LDLIBS)
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-run
fuzz-run: $(FUZZERS)
	@for f in $(FUZZERS); do \
	    n=$${f#build/fuzz/fuzz-}; mkdir -p build/fuzz/corpus-$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/$$n- \
	        build/fuzz/corpus-$$n fuzz/corpus/$$n > build/fuzz/$$n.log 2>&1; \
	    then tail -40 build/fuzz/$$n.log; exit 1; fi; \
	    grep -E "stat::(number_of_executed_units|new_units_added)" \
	        build/fuzz/$$n.log; \
	done

bench: all
	bench/run

clean:
	rm -rf build bin t/unit

-include $(shell find build -name '*.d' 2>/dev/null)
