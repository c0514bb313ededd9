// SPDX-License-Identifier: GPL-2.0
// iopfctl: the test bed's command line. main only dispatches.
#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
    iopfctl::Args args(argv + 1, argv + argc);
    iopfctl::Io io{std::cout, std::cerr};
    return iopfctl::run(args, io);
}
