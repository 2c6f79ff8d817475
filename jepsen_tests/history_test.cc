#include <doctest/doctest.h>

#include <unistd.h>

#include "jepsen_tests/history.h"
#include "jepsen_tests/json_value.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;

TEST_CASE("json: strict parse round-trips nested values, escapes and big numbers") {
  auto v = parse_json(R"({"a":[1,-2,3.5,true,null],"s":"q\"\\\n\u00e9\ud83d\ude00","big":1e300})");
  REQUIRE(v.is_ok());
  CHECK(v->find("a")->as_array()[1].as_int() == -2);
  CHECK(v->find("a")->as_array()[2].as_double() == 3.5);
  CHECK(v->find("s")->as_string() == "q\"\\\n\xc3\xa9\xf0\x9f\x98\x80");
  auto again = parse_json(to_json(*v));
  REQUIRE(again.is_ok());
  CHECK(*again == *v);
  CHECK(parse_json("9223372036854775807")->as_int() == INT64_MAX);
  CHECK(parse_json("9223372036854775808")->is_int() == false);
}

TEST_CASE("json: malformed input is an error, never a crash") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\\x\"", "{\"a\":1,\"a\":2}",
                          "[1] 2", "\"\\ud800\"", "tru", "{1:2}", "\"a\nb\"", "-", "1e"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_json(bad).is_ok());
  }
  std::string deep(1000, '[');
  CHECK_FALSE(parse_json(deep).is_ok());
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
    e.extra.set("error", "timeout");
    e.time_ns = 2000;
    CHECK((*writer)->append(e).value() == 1);
  }
  auto history = read_history_file(path);
  ::unlink(path.c_str());
  REQUIRE(history.is_ok());
  REQUIRE(history->size() == 2);
  CHECK((*history)[1].type == OpType::kInfo);
  CHECK((*history)[1].extra.get_string("error") == "timeout");
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
