// SPDX-License-Identifier: GPL-2.0
#include "iopf/table.hpp"

#include <algorithm>

namespace iopf {

std::string Table::render() const {
    std::vector<std::size_t> w(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < w.size(); i++)
            w[i] = std::max(w[i], row[i].size());
    };
    widen(header_);
    for (const auto& r : rows_)
        widen(r);
    auto line = [&](const std::vector<std::string>& row) {
        std::string s;
        for (std::size_t i = 0; i < w.size(); i++) {
            const std::string cell = i < row.size() ? row[i] : "";
            s += cell;
            if (i + 1 < w.size())
                s += std::string(w[i] - cell.size() + 2, ' ');
        }
        while (!s.empty() && s.back() == ' ')
            s.pop_back();
        return s + '\n';
    };
    std::string out = line(header_);
    for (const auto& r : rows_)
        out += line(r);
    return out;
}

} // namespace iopf
