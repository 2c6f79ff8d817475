// kv-bench: `kv bench` as a standalone program (same code as the `kv bench` command,
// cli/bench_command.cc, linked as the kv_bench library), so the benchmarks build without the
// rest of the CLI.
#include <iostream>
#include <string_view>
#include <vector>

#include "cli/bench_command.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return cli::run_bench_command(args, std::cout, std::cerr);
}
