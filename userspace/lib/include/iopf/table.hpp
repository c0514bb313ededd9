// SPDX-License-Identifier: GPL-2.0
// Plain-text tables with aligned columns.
#pragma once

#include <string>
#include <vector>

namespace iopf {

class Table {
  public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    std::string render() const;

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

} // namespace iopf
