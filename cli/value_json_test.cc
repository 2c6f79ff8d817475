#include "cli/value_json.h"

#include <doctest/doctest.h>

#include "cli/atomic_doc.h"

namespace {

kvmodel::Value value_of(std::string_view json) {
  return cli::value_from_json(base::Json::parse(json).value()).value();
}

std::string doc_error(std::string_view text) {
  auto write = cli::parse_atomic_document(text);
  REQUIRE_FALSE(write.is_ok());
  return write.status().message();
}

}  // namespace

TEST_CASE("value_json: tagged forms select the encoding, everything else is V8") {
  kvmodel::Value u64 = value_of(R"({"u64":"258"})");
  CHECK(u64.encoding == kvmodel::ValueEncoding::kLe64);
  CHECK(base::to_hex(u64.data) == "0201000000000000");
  CHECK(value_of(R"({"bytes":"AAH/"})") ==
        kvmodel::Value{kvmodel::ValueEncoding::kBytes, std::string("\x00\x01\xff", 3)});
  kvmodel::Value v8 = value_of(R"({"u64":"1","x":2})");  // two members: a plain object
  CHECK(v8.encoding == kvmodel::ValueEncoding::kV8);
  CHECK(base::to_hex(value_of(R"("hi")").data) == "ff0f22026869");
  CHECK(base::to_hex(value_of(R"({"v8":"/w9U"})").data) == "ff0f54");
  CHECK_FALSE(cli::value_from_json(base::Json::parse(R"({"u64":"-1"})").value()).is_ok());
  CHECK_FALSE(
      cli::value_from_json(base::Json::parse(R"({"u64":"18446744073709551616"})").value()).is_ok());
  CHECK_FALSE(cli::value_from_json(base::Json::parse(R"({"bytes":"!"})").value()).is_ok());
  CHECK_FALSE(cli::value_from_json(base::Json::parse(R"({"v8":"AAAA"})").value()).is_ok());
}

TEST_CASE("value_json: values print back in the same syntax; non-JSON V8 values as {\"v8\"}") {
  for (const char* text : {R"({"u64":"18446744073709551615"})", R"({"bytes":"AAH/"})",
                           R"({"a":[1,2.5,"x",null,true]})"}) {
    CAPTURE(text);
    CHECK(cli::value_to_json(value_of(text)).serialize() == text);
  }
  kvmodel::Value date{kvmodel::ValueEncoding::kV8,
                      base::from_hex("ff0f440000000000000000").value()};
  CHECK(cli::value_to_json(date).serialize() == R"({"v8":"/w9EAAAAAAAAAAA="})");
  CHECK(cli::value_from_json(cli::value_to_json(date)).value() == date);
}

TEST_CASE("value_json: argument syntaxes and versionstamps") {
  using cli::ValueSyntax;
  CHECK(cli::value_from_argument("AAE=", ValueSyntax::kBytes)->data == std::string("\x00\x01", 2));
  CHECK(cli::value_from_argument("7", ValueSyntax::kU64)->encoding ==
        kvmodel::ValueEncoding::kLe64);
  auto bare = cli::value_from_argument("hello", ValueSyntax::kJson);
  REQUIRE_FALSE(bare.is_ok());
  CHECK(bare.status().message().find("a string needs quotes") != std::string::npos);
  auto vs = cli::versionstamp_from_hex("00000000000000050001").value();
  CHECK(vs.raft_index() == 5);
  CHECK(vs.position() == 1);
  CHECK(vs.hex() == "00000000000000050001");
  CHECK(cli::versionstamp_from_hex("0005").status().message() ==
        "invalid versionstamp '0005': expected 20 hex digits");
  CHECK_FALSE(cli::versionstamp_from_hex("0000000000000005000g").is_ok());
}

TEST_CASE("atomic_doc: a full document becomes one atomic write") {
  auto write = cli::parse_atomic_document(R"({
    "checks": [{"key": ["a"], "versionstamp": null},
               {"key": ["b"], "versionstamp": "00000000000000050000"}],
    "mutations": [{"type": "set", "key": ["a"], "value": {"n": 1}, "expire_in": 60000},
                  {"type": "delete", "key": ["b"]},
                  {"type": "sum", "key": ["c"], "value": {"u64": "2"}}],
    "enqueues": [{"value": "job", "delay": 10, "keys_if_undelivered": [["dead"]],
                  "backoff": [1, 2]}]})");
  REQUIRE(write.is_ok());
  REQUIRE(write->checks.size() == 2);
  CHECK_FALSE(write->checks[0].versionstamp.has_value());
  CHECK(write->checks[1].versionstamp->raft_index() == 5);
  REQUIRE(write->mutations.size() == 3);
  CHECK(write->mutations[0].kind == kvmodel::MutationKind::kSet);
  CHECK(write->mutations[0].expire_at_ms > 1'600'000'000'000);
  CHECK(write->mutations[1].kind == kvmodel::MutationKind::kDelete);
  CHECK(write->mutations[1].value == kvmodel::Value{});  // a delete carries none
  CHECK(write->mutations[2].value.encoding == kvmodel::ValueEncoding::kLe64);
  REQUIRE(write->enqueues.size() == 1);
  CHECK(base::to_hex(write->enqueues[0].payload) == "ff0f22036a6f62");
  CHECK(write->enqueues[0].delay_ms == 10);
  CHECK(write->enqueues[0].backoff_schedule_ms == std::vector<uint32_t>{1, 2});
  CHECK(write->enqueues[0].keys_if_undelivered.size() == 1);
  CHECK(cli::parse_atomic_document("{}").is_ok());
}

TEST_CASE("atomic_doc: mistakes are named by their place in the document") {
  CHECK(doc_error(R"({"mutation": []})") == "the document: unknown member 'mutation'");
  CHECK(doc_error(R"({"mutations": {}})") == "mutations must be an array");
  CHECK(doc_error(R"({"mutations": [{"type": "put", "key": ["a"], "value": 1}]})") ==
        "mutations[0]: type must be one of set, delete, sum, min, max");
  CHECK(doc_error(R"({"mutations": [{"type": "set", "key": ["a"]}]})") ==
        "mutations[0]: value is missing");
  CHECK(doc_error(R"({"mutations": [{"type": "delete", "key": ["a"], "value": 1}]})") ==
        "mutations[0]: a delete takes no value");
  CHECK(doc_error(R"({"mutations": [{"type": "set", "key": "a", "value": 1}]})")
            .find("mutations[0]: ") == 0);
  CHECK(doc_error(R"({"checks": [{"key": ["a"], "versionstamp": "05"}]})") ==
        "checks[0]: invalid versionstamp '05': expected 20 hex digits");
  CHECK(doc_error(R"({"checks": [{"key": ["a"]}]})") ==
        "checks[0]: versionstamp is missing (use null for absent)");
  CHECK(doc_error(R"({"enqueues": [{"value": 1, "delay": -5}]})") ==
        "enqueues[0]: delay must be a non-negative integer (ms)");
  CHECK(doc_error(R"({"mutations": [{"type": "set", "key": ["a"], "value": 1, "ttl": 5}]})") ==
        "mutations[0]: unknown member 'ttl'");
  CHECK(doc_error("[").find("invalid JSON") == 0);
}
