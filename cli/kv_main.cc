// The `kv` command: a small dispatcher over command groups, one file per group
// (key_commands.cc, ...). Each group takes the words after its name and returns an exit code.
#include <iostream>
#include <span>
#include <string_view>
#include <vector>

#include "cli/key_commands.h"

namespace {

struct CommandGroup {
  std::string_view name;
  const char* const* help;
  int (*run)(std::span<const std::string_view>, std::ostream&, std::ostream&);
};

const CommandGroup kGroups[] = {
    {"key", &cli::kKeyCommandHelp, cli::run_key_command},
};

void print_help(std::ostream& out) {
  out << "kv: command-line client for raftkv\n\nusage:\n";
  for (const auto& group : kGroups) out << *group.help;
  out << "  kv --help                      show this help\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  for (const auto& group : kGroups) {
    if (args[0] == group.name) {
      return group.run(std::span(args).subspan(1), std::cout, std::cerr);
    }
  }
  std::cerr << "kv: unknown command '" << args[0] << "' (see kv --help)\n";
  return 2;
}
