# devexcl: top-level entry points. `make run` and `make check` do everything
# on a fresh Debian 12 machine as root, installing what is missing.
#
# (kbuild reads ./Kbuild, not this file, when it builds the module.)

SHELL := /bin/bash
# Which test kernel: KERNEL=6.1 (default), 6.12 or latest, or KSRC=/path to
# a kernel tree of your own (see scripts/build-kernel.sh).
KERNEL ?= 6.1
KSRC ?=
export KERNEL KSRC
KERNEL_NAME := $(if $(KSRC),ksrc,$(KERNEL))
BUILD := $(CURDIR)/build$(if $(filter 6.1,$(KERNEL_NAME)),,/kernel-$(KERNEL_NAME))
# User space does not depend on the kernel: one build serves every kernel.
HOST_BUILD := $(CURDIR)/build/host
VM_CMAKE := $(CURDIR)/build/vm-cmake
# make 4.3's $(shell) does not see exported variables: pass them on.
KENV = DEVEXCL_FLAVOUR=$(DEVEXCL_FLAVOUR) KERNEL=$(KERNEL) KSRC=$(KSRC)
# Resolved on first use, after `kernel` has run, then kept: for KSRC the
# cache key hashes the tree's diff, which is worth doing once per make.
KDIR = $(eval KDIR := $$(shell $(KENV) $(CURDIR)/scripts/build-kernel.sh --dir))$(KDIR)
KSRCDIR = $(eval KSRCDIR := $$(shell $(KENV) $(CURDIR)/scripts/build-kernel.sh --src))$(KSRCDIR)
JOBS ?= $(shell nproc)
export DEVEXCL_BUILD := $(BUILD)
export DEVEXCL_FLAVOUR
# `make soak` and `make cycles`: how long, how many (parameters, not asserts).
SOAK_SECONDS ?= 60
CYCLES ?= 100
# `make fuzz`: how long to fuzz, from which seed, with THP churn (1) or not (0).
# The debug flavour's boot and kmemleak scans take longer: it fuzzes less.
FUZZ_SECONDS ?= $(if $(filter debug,$(DEVEXCL_FLAVOUR)),100,150)
FUZZ_SEED ?= 1
FUZZ_THP ?= 1
# `make install`: where to (DESTDIR, if set, is prepended to every path).
PREFIX ?= /usr/local

.PHONY: all deps kernel module userspace install selftests host-check vm-check gate-selftest \
	run check check-all check-debug check-stock dkms-install dkms-uninstall repro vm-shell bench fuzz soak cycles checkpatch format format-check \
	clean help

all: module userspace selftests

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## deps        install missing Debian packages (quick when all are present)
deps:
	@scripts/deps.sh

## kernel      build (or reuse from ~/.cache/devexcl) the test kernel (KERNEL=6.1|6.12|latest, or KSRC=)
kernel: deps
	@scripts/build-kernel.sh >/dev/null

## module      build devexcl.ko against the test kernel (-Werror)
# kbuild's command lines are relative to the kernel tree, so switching trees
# (kernels, flavours, config changes) would not rebuild the objects: they
# are removed first. Not with kbuild's `make M=. clean`: that deletes every
# object below this directory, build/host and build/vm-cmake included.
MODULE_CLEAN = rm -f module/*.o module/.*.cmd devexcl.o devexcl.ko devexcl.mod devexcl.mod.c \
	devexcl.mod.o .module-common.o .*.cmd Module.symvers modules.order
module: kernel
	@kdir="$(KDIR)"; mkdir -p $(BUILD); \
	if [ "$$(cat build/module.kdir 2>/dev/null)" != "$$kdir" ]; then \
		$(MODULE_CLEAN); echo "$$kdir" >build/module.kdir; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) DEVEXCL_WERROR=1 modules
	install -m 0644 devexcl.ko $(BUILD)/devexcl.ko

## userspace   build libdevexcl, the devexcl CLI and the host tests
userspace: deps
	cmake -S userspace -B $(HOST_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(HOST_BUILD) -j $(JOBS)

## install     install headers, libdevexcl (.so and .a), the CLI, devexcl(1), devexcl.pc and
##             the CMake package under PREFIX=/usr/local (DESTDIR honoured)
# The prefix is configured (GNUInstallDirs picks lib/ or lib/<triplet>/ by
# it), and DESTDIR is read from the environment by `cmake --install`.
install: deps
	cmake -S userspace -B $(HOST_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(HOST_BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(HOST_BUILD)

## selftests   build the static VM suite, CLI and the peer hmm-tests
selftests: kernel
	$(MAKE) -C selftests KDIR=$(KSRCDIR) OUTPUT=$(BUILD)/vm CMAKE_DIR=$(VM_CMAKE) JOBS=$(JOBS)

## run         the main job: build, boot the VM and run the demo
run: all
	scripts/vm.sh --name demo --timeout 600 -- /opt/devexcl/demo.sh

## check       host tests, the VM suite, the console-gate self-test, the peer
check: all
	scripts/check.sh

## bench       benchmarks in one VM boot: figures and ratios, no assertions
bench: all
	scripts/vm.sh --name bench --pin --timeout 1800 -- /opt/devexcl/bench.sh

## repro       one VM per known kernel bug: a crash where the kernel has it, clean where not
repro: all
	scripts/repro.sh

## soak        data-integrity soak (SOAK_SECONDS=60): forks, munmaps, exits, move_pages
soak: all
	scripts/vm.sh --name soak --timeout $$(($(SOAK_SECONDS) + 900)) -- \
		DEVEXCL_SOAK_SECONDS=$(SOAK_SECONDS) /opt/devexcl/soak.sh

## cycles      CYCLES=100 insmod/rmmod cycles, things in flight; rmmod refused exactly while in use
cycles: all
	scripts/vm.sh --name cycles --timeout 1800 -- DEVEXCL_CYCLES=$(CYCLES) /opt/devexcl/cycles.sh

## fuzz        malformed-input fuzzer, one VM boot (FUZZ_SECONDS=150, 100 debug; FUZZ_SEED=1 FUZZ_THP=1)
# The VM's timeout leaves room for boot, the end checks and kmemleak's scans.
fuzz: all
	scripts/vm.sh --name fuzz --timeout $$(( $(FUZZ_SECONDS) + 300 )) -- \
		/opt/devexcl/fuzz.sh --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) \
		$(if $(filter 0,$(FUZZ_THP)),--no-thp)

## check-all   make check on 6.1, 6.12 and latest (and KSRC= if given); the behaviour table
check-all: deps
	scripts/check-all.sh

## check-stock the suite on Debian's own stock kernels (STOCK="6.1 6.12"), module built by DKMS
STOCK ?= 6.1 6.12
check-stock: deps
	@status=0; for k in $(STOCK); do scripts/check-stock.sh $$k || status=1; done; exit $$status

## dkms-install  register, build and install devexcl.ko with DKMS (KVER=, default: the running kernel)
# The module's version is its ABI version: what a DKMS user needs to tell
# two installed versions apart.
KVER ?= $(shell uname -r)
DKMS_VERSION = $(shell sed -nE 's/^\#define DEVEXCL_ABI_(MAJOR|MINOR) ([0-9]+)/\2/p' module/uapi/devexcl.h | paste -sd.)
DKMS_SRC = /usr/src/devexcl-$(DKMS_VERSION)
dkms-install: deps
	@test -d /lib/modules/$(KVER)/build || { echo "no headers for $(KVER): apt-get install linux-headers-$(KVER)"; exit 1; }
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)
	cp -r Kbuild module $(DKMS_SRC)/
	find $(DKMS_SRC) \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \) -delete
	sed 's/@VERSION@/$(DKMS_VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf
	dkms remove devexcl/$(DKMS_VERSION) -k $(KVER) >/dev/null 2>&1 || true
	dkms add devexcl/$(DKMS_VERSION) >/dev/null 2>&1 || dkms status devexcl/$(DKMS_VERSION) | grep -q .
	dkms build devexcl/$(DKMS_VERSION) -k $(KVER)
	dkms install devexcl/$(DKMS_VERSION) -k $(KVER) --force

## dkms-uninstall remove devexcl from DKMS, for every kernel
dkms-uninstall:
	-dkms remove devexcl/$(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

## check-debug make check on the debug flavour (lockdep, KASAN, kmemleak, ...)
check-debug:
	$(MAKE) check DEVEXCL_FLAVOUR=debug

## vm-shell    an interactive VM with the module, tools and /host (this repo)
vm-shell: all
	scripts/vm.sh --shell

## checkpatch  checkpatch.pl --strict, from the newest cached kernel tree, over module/
checkpatch: kernel
	scripts/tests/style_test.sh checkpatch

## format-check clang-format over all C++ sources (no changes)
format-check: deps
	scripts/tests/style_test.sh clang-format

## format      reformat all C++ sources in place
format: deps
	find userspace selftests \( -name "*.cpp" -o -name "*.hpp" \) -print0 | xargs -0 clang-format -i

## clean       remove build outputs (the kernel cache stays; see README)
clean:
	$(MODULE_CLEAN)
	rm -rf $(BUILD) build/module.kdir
