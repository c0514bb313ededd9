// SPDX-License-Identifier: GPL-2.0 OR MIT
// A directory under /tmp for one test, removed with everything in it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace iopf_test {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/iopf_test_XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    // Writes `content` to `name` in it; returns the file's path.
    std::string file(const std::string& name, const std::string& content) const {
        auto p = path / name;
        std::ofstream(p) << content;
        return p.string();
    }
    std::string slurp(const std::string& name) const {
        std::ifstream in(path / name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

} // namespace iopf_test
