// The `kv` command: see cli/kv_cli.h and cli/README.md.
#include <cstdlib>
#include <iostream>

#include "cli/kv_cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("KV_ENDPOINTS");
  auto make_client = [](std::vector<std::string> endpoints, cli::ClientOptions options) {
    return std::make_unique<cli::Client>(std::move(endpoints), options);
  };
  return cli::run_kv(args, env ? env : "", make_client, std::cin, std::cout, std::cerr);
}
