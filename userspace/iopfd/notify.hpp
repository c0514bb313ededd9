// SPDX-License-Identifier: GPL-2.0
// Readiness and status for systemd (Type=notify), through libsystemd's
// sd_notify(); nothing happens outside systemd (NOTIFY_SOCKET unset) or in
// a build without libsystemd (IOPF_SYSTEMD=OFF).
#pragma once

#include <string>

namespace iopfd {

// "READY=1", "STATUS=...", "RELOADING=1", "STOPPING=1" (sd_notify(3)).
void notify(const std::string& state);

} // namespace iopfd
