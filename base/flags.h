// A small command-line flag parser shared by kvd, kv and the test tools.
// Flags are `--name value` or `--name=value`; booleans are `--name` alone. Unknown flags,
// missing values and malformed numbers are errors with a message naming the flag; `--help`
// prints the generated usage. Positional arguments are collected in order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace base {

class Flags {
 public:
  explicit Flags(std::string usage_line) : usage_line_(std::move(usage_line)) {}

  void add_string(std::string name, std::string* target, std::string help);
  void add_int(std::string name, int64_t* target, std::string help);
  void add_uint(std::string name, uint64_t* target, std::string help);
  void add_bool(std::string name, bool* target, std::string help);
  // A repeatable flag: every occurrence is appended.
  void add_list(std::string name, std::vector<std::string>* target, std::string help);

  // Parses argv[first..argc). Returns an error for unknown flags or bad values; sets
  // help_requested() instead of failing on --help / -h.
  Status parse(int argc, char** argv, int first = 1);
  // Parses an already split argument list (for subcommands).
  Status parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    std::function<Status(std::string_view)> set;
  };
  const Flag* find(std::string_view name) const;

  std::string usage_line_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

// Strict decimal parsing (the whole text must be a number in range).
Result<int64_t> parse_int(std::string_view text);
Result<uint64_t> parse_uint(std::string_view text);

}  // namespace base
