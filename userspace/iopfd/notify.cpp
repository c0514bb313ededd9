// SPDX-License-Identifier: GPL-2.0
#include "notify.hpp"

#ifdef IOPF_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace iopfd {

void notify(const std::string& state) {
#ifdef IOPF_HAVE_SYSTEMD
    // A failure to notify is systemd's to report (a start timeout).
    (void)sd_notify(0, state.c_str());
#else
    (void)state;
#endif
}

} // namespace iopfd
