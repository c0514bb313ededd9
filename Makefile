# SPDX-License-Identifier: GPL-2.0
# Convenience wrapper: `make KDIR=/path/to/kernel/build` builds the module
# against your dev kernel (cross: add ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-).
# Without KDIR: the running kernel's build directory if it has one, else the
# newest (by version, not by name) /usr/src/linux-headers-*-<dpkg arch>.
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build), \
	$(shell ls -d /usr/src/linux-headers-*-$(DEB_ARCH) 2>/dev/null | sort -V | tail -n1))

all: modules

modules modules_install clean:
	@test -n "$(KDIR)" || { echo "no kernel headers found: make KDIR=/path/to/kernel/build" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

.PHONY: all modules modules_install clean
