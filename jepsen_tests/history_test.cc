#include <doctest/doctest.h>

#include <unistd.h>

#include "base/json.h"
#include "jepsen_tests/history.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;

TEST_CASE("history: a value above 2^63 survives history.jsonl exactly; an index there is refused") {
  // The harness's old JSON value wrapped u64 values above 2^63 to negative int64s.
  const uint64_t big = (uint64_t{1} << 63) + 5;
  Event e;
  e.f = "write";
  e.value = testing::kv("r1", Json::number(big));
  auto back = parse_history(format_event(e) + "\n");
  REQUIRE(back.is_ok());
  CHECK((*back)[0].value.find("value")->number_as_u64() == big);
  CHECK(format_event((*back)[0]).find("\"value\":9223372036854775813") != std::string::npos);
  auto wrapped = parse_history(
      "{\"index\":9223372036854775808,\"type\":\"invoke\",\"process\":1,\"f\":\"read\","
      "\"time_ns\":1}\n");
  CHECK_FALSE(wrapped.is_ok());
}

TEST_CASE("history: malformed JSON lines are an error naming the line, never a crash") {
  for (const char* bad :
       {"{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\\x\"", "{\"a\":1,\"a\":2}", "[1] 2",
        "\"\\ud800\"", "tru", "{1:2}", "\"a\nb\"", "-", "1e", "[1]", "7"}) {
    CAPTURE(bad);
    auto h = parse_history(std::string(bad) + "\n");
    REQUIRE_FALSE(h.is_ok());
    CHECK(h.status().message().find("line 1") != std::string::npos);
  }
  CHECK_FALSE(parse_history(std::string(1000, '[')).is_ok());
}

TEST_CASE("history: events survive a write/read round trip through history.jsonl") {
  const std::string path = "history_test_" + std::to_string(::getpid()) + ".jsonl";
  {
    auto writer = HistoryWriter::open(path);
    REQUIRE(writer.is_ok());
    Event e;
    e.type = OpType::kInvoke;
    e.process = 3;
    e.node = "n2";
    e.f = "write";
    e.value = testing::kv("r1", 7);
    e.time_ns = 1000;
    e.wall_ms = 5;
    CHECK((*writer)->append(e).value() == 0);
    e.type = OpType::kInfo;
    e.extra = Json::object({{"error", Json::string("timeout")}});
    e.time_ns = 2000;
    CHECK((*writer)->append(e).value() == 1);
  }
  auto history = read_history_file(path);
  ::unlink(path.c_str());
  REQUIRE(history.is_ok());
  REQUIRE(history->size() == 2);
  CHECK((*history)[1].type == OpType::kInfo);
  CHECK((*history)[1].extra.find_string("error") == "timeout");
  CHECK((*history)[0].value == testing::kv("r1", 7));
  CHECK((*history)[0].node == "n2");
}

TEST_CASE("history: a bad line is reported with its line number") {
  auto h = parse_history(
      "{\"index\":0,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"time_ns\":1}\n"
      "{\"index\":1,\"type\":\"bogus\",\"process\":1,\"f\":\"read\",\"time_ns\":2}\n");
  REQUIRE_FALSE(h.is_ok());
  CHECK(h.status().message().find("line 2") != std::string::npos);
}

TEST_CASE("history: pairing matches completions per process, pending invokes become info") {
  testing::HistoryBuilder b;
  b.invoke(1, "write", testing::kv("k", 1), 0)
      .invoke(2, "read", testing::key_only("k"), 1)
      .ok(1, "write", testing::kv("k", 1), 2)
      .invoke(1, "read", testing::key_only("k"), 3)
      .fail(1, "read", testing::key_only("k"), 4);
  auto ops = pair_operations(b.history());
  REQUIRE(ops.is_ok());
  REQUIRE(ops->size() == 3);
  CHECK((*ops)[0].ok());
  CHECK((*ops)[0].complete_ns == 2'000'000);
  CHECK((*ops)[1].indeterminate());
  CHECK((*ops)[1].complete_ns == Operation::kNever);
  CHECK((*ops)[2].failed());
}

TEST_CASE("history: pairing rejects a double invoke and an orphan completion") {
  testing::HistoryBuilder twice;
  twice.invoke(1, "read", Json(), 0).invoke(1, "read", Json(), 1);
  CHECK_FALSE(pair_operations(twice.history()).is_ok());
  testing::HistoryBuilder orphan;
  orphan.ok(1, "read", Json(), 0);
  CHECK_FALSE(pair_operations(orphan.history()).is_ok());
  testing::HistoryBuilder mismatch;
  mismatch.invoke(1, "read", Json(), 0).ok(1, "write", Json(), 1);
  CHECK_FALSE(pair_operations(mismatch.history()).is_ok());
}
