#include "base/flags.h"

#include <charconv>

namespace base {

Result<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    return invalid_argument("'{}' is not an integer", text);
  return v;
}

Result<uint64_t> parse_uint(std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    return invalid_argument("'{}' is not a non-negative integer", text);
  return v;
}

void Flags::add_string(std::string name, std::string* target, std::string help) {
  std::string def = target->empty() ? "" : *target;
  flags_.push_back({std::move(name), std::move(help), def, false, [target](std::string_view v) {
                      *target = std::string(v);
                      return Status::ok();
                    }});
}

void Flags::add_int(std::string name, int64_t* target, std::string help) {
  flags_.push_back({name, std::move(help), std::to_string(*target), false,
                    [target, name](std::string_view v) -> Status {
                      auto r = parse_int(v);
                      if (!r.is_ok()) return invalid_argument("--{}: {}", name, r.status().message());
                      *target = *r;
                      return Status::ok();
                    }});
}

void Flags::add_uint(std::string name, uint64_t* target, std::string help) {
  flags_.push_back({name, std::move(help), std::to_string(*target), false,
                    [target, name](std::string_view v) -> Status {
                      auto r = parse_uint(v);
                      if (!r.is_ok()) return invalid_argument("--{}: {}", name, r.status().message());
                      *target = *r;
                      return Status::ok();
                    }});
}

void Flags::add_bool(std::string name, bool* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), "", true, [target](std::string_view) {
                      *target = true;
                      return Status::ok();
                    }});
}

void Flags::add_list(std::string name, std::vector<std::string>* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), "", false, [target](std::string_view v) {
                      target->emplace_back(v);
                      return Status::ok();
                    }});
}

const Flags::Flag* Flags::find(std::string_view name) const {
  for (const Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

Status Flags::parse(int argc, char** argv, int first) {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return parse(args);
}

Status Flags::parse(const std::vector<std::string>& args) {
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") return invalid_argument("unknown flag '{}' (see --help)", arg);
    std::string_view body = arg.substr(2);
    std::string_view name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    const Flag* flag = find(name);
    if (flag == nullptr) return invalid_argument("unknown flag '--{}' (see --help)", name);
    if (flag->is_bool) {
      if (has_value) return invalid_argument("--{} takes no value", name);
    } else if (!has_value) {
      if (i + 1 >= args.size()) return invalid_argument("--{} needs a value", name);
      value = args[++i];
    }
    RETURN_IF_ERROR(flag->set(value));
  }
  return Status::ok();
}

std::string Flags::usage() const {
  std::string out = usage_line_ + "\n\nFlags:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name + (f.is_bool ? "" : " VALUE");
    out += fmt::format("{:<34} {}", left, f.help);
    if (!f.default_text.empty()) out += fmt::format(" (default: {})", f.default_text);
    out += "\n";
  }
  out += fmt::format("{:<34} {}\n", "  --help", "show this help");
  return out;
}

}  // namespace base
