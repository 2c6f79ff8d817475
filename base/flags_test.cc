#include <doctest/doctest.h>

#include "base/flags.h"

using namespace base;

TEST_CASE("flags: values, booleans, lists and positionals parse in any order") {
  std::string addr = "127.0.0.1:4501";
  int64_t count = 3;
  uint64_t id = 0;
  bool json = false;
  std::vector<std::string> keys;
  Flags flags("usage: tool [flags] ARGS");
  flags.add_string("addr", &addr, "address");
  flags.add_int("count", &count, "count");
  flags.add_uint("id", &id, "node id");
  flags.add_bool("json", &json, "json output");
  flags.add_list("key", &keys, "a key");
  REQUIRE(flags.parse({"get", "--id", "2", "--json", "--count=-4", "--key", "a", "x", "--key=b"})
              .is_ok());
  CHECK(id == 2);
  CHECK(json);
  CHECK(count == -4);
  CHECK(addr == "127.0.0.1:4501");
  CHECK(keys == std::vector<std::string>{"a", "b"});
  CHECK(flags.positional() == std::vector<std::string>{"get", "x"});
  CHECK(flags.usage().find("--addr VALUE") != std::string::npos);
  CHECK(flags.usage().find("(default: 127.0.0.1:4501)") != std::string::npos);
}

TEST_CASE("flags: unknown flags, missing values and bad numbers are clear errors") {
  uint64_t id = 0;
  bool json = false;
  Flags flags("usage");
  flags.add_uint("id", &id, "node id");
  flags.add_bool("json", &json, "json");
  Status s = Flags(flags).parse({"--nope"});
  CHECK(s.message() == "unknown flag '--nope' (see --help)");
  CHECK(Flags(flags).parse({"--id"}).message() == "--id needs a value");
  CHECK(Flags(flags).parse({"--id", "x1"}).message() == "--id: 'x1' is not a non-negative integer");
  CHECK(Flags(flags).parse({"--id", "-1"}).message() == "--id: '-1' is not a non-negative integer");
  CHECK(Flags(flags).parse({"--json=1"}).message() == "--json takes no value");
  CHECK(Flags(flags).parse({"-x"}).message() == "unknown flag '-x' (see --help)");
  Flags h(flags);
  CHECK(h.parse({"--help"}).is_ok());
  CHECK(h.help_requested());
  Flags p(flags);
  CHECK(p.parse({"--", "--id"}).is_ok());
  CHECK(p.positional() == std::vector<std::string>{"--id"});
  CHECK(id == 0);
}
