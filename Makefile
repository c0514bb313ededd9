# SPDX-License-Identifier: GPL-2.0
# Convenience wrapper: `make KDIR=/path/to/kernel/build` builds the module
# against your dev kernel. Without KDIR, the newest Debian headers installed
# by scripts/install-deps.sh are used.
KDIR ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))

all: modules

modules modules_install clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

.PHONY: all modules modules_install clean
