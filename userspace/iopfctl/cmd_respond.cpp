// SPDX-License-Identifier: GPL-2.0
// iopfctl respond: one PAGE_RESPONSE.
#include <fmt/core.h>

#include "iopf/client.hpp"
#include "iopf/error.hpp"
#include "iopf/names.hpp"
#include "output.hpp"

namespace iopfctl {

const char* const kRespondUsage =
    R"(usage: iopfctl respond SID --grpid N [--pasid N] --code success|invalid|failure
  SID: StreamID, decimal or 0x hex (--sid SID also works); N: the page
  request's group (its STAG, 0-65535) and PASID.
example: iopfctl respond 0x10 --grpid 7 --code success
)";

int cmd_respond(const Args& args, Io& io) {
    po::options_description desc("respond");
    po::positional_options_description pos;
    add_sid(desc, pos);
    desc.add_options()("grpid", po::value<std::string>())("pasid", po::value<std::string>())(
        "code", po::value<std::string>());
    auto vm = parse_options(args, desc, &pos);
    auto sid = sid_req(vm);
    // the module's limits: the STAG is 16 bits, SubstreamIDs are 20
    auto grpid = count_opt(vm, "grpid", (1U << 16) - 1);
    if (!grpid)
        throw UsageError("--grpid is required");
    std::optional<uint32_t> pasid;
    if (auto p = num_opt(vm, "pasid", (1U << 20) - 1))
        pasid = static_cast<uint32_t>(*p);
    if (!vm.count("code"))
        throw UsageError("--code is required");
    uint32_t code;
    try {
        code = iopf::parse_resp_code(vm["code"].as<std::string>());
    } catch (const iopf::ParseError& e) {
        throw UsageError(e.what());
    }
    iopf::Client().page_response(sid, static_cast<uint32_t>(*grpid), pasid, code);
    io.out << fmt::format("answered sid {:#x} grpid {}{}: {}\n", sid, *grpid,
                          pasid ? fmt::format(" pasid {:#x}", *pasid) : "",
                          iopf::resp_code_name(code));
    return 0;
}

} // namespace iopfctl
