#include "base/json.h"

#include <doctest/doctest.h>

using base::Json;

namespace {
std::string error_of(std::string_view text) {
  auto r = Json::parse(text);
  REQUIRE_FALSE(r.is_ok());
  return r.status().message();
}
}  // namespace

TEST_CASE("json: a document round-trips byte for byte, keeping number text and key order") {
  std::string text =
      R"({"z":1,"a":[true,false,null,"x\"y\\z\n"],"big":123456789012345678901234567890,)"
      R"("d":0.1000000000000000055511151231257827,"e":-1.5e-300,"o":{}})";
  auto parsed = Json::parse(text);
  REQUIRE(parsed.is_ok());
  CHECK(parsed->serialize() == text);
  CHECK(parsed->find("big")->as_string() == "123456789012345678901234567890");
  CHECK(parsed->as_object()[0].first == "z");
}

TEST_CASE("json: whitespace is allowed between tokens and dropped when serializing") {
  auto parsed = Json::parse(" [ 1 , { \"a\" : \"b\" } ]\n\t");
  REQUIRE(parsed.is_ok());
  CHECK(parsed->serialize() == R"([1,{"a":"b"}])");
}

TEST_CASE("json: escapes decode to UTF-8, including surrogate pairs") {
  auto parsed = Json::parse(R"("\u00e9\ud83d\ude00\u0000\/")");
  REQUIRE(parsed.is_ok());
  CHECK(parsed->as_string() == std::string("\xc3\xa9\xf0\x9f\x98\x80\0/", 8));
  // Control characters come back as \u escapes; other bytes verbatim.
  CHECK(parsed->serialize() == "\"\xc3\xa9\xf0\x9f\x98\x80\\u0000/\"");
}

TEST_CASE("json: numbers convert on demand with range checks") {
  auto v = Json::parse("[18446744073709551615, -9223372036854775808, 1.5, 1e3, -1]");
  REQUIRE(v.is_ok());
  const auto& a = v->as_array();
  CHECK(a[0].number_as_u64() == UINT64_MAX);
  CHECK_FALSE(a[0].number_as_i64().has_value());
  CHECK(a[1].number_as_i64() == INT64_MIN);
  CHECK_FALSE(a[2].number_as_i64().has_value());
  CHECK(a[2].number_as_double() == 1.5);
  CHECK_FALSE(a[3].number_as_u64().has_value());
  CHECK(a[3].number_as_double() == 1000.0);
  CHECK_FALSE(a[4].number_as_u64().has_value());
  CHECK(Json::number(0.1).serialize() == "0.1");
  CHECK(Json::number(42.0).serialize() == "42");
  CHECK(Json::number(-0.0).serialize() == "-0");
  CHECK(Json::number(uint64_t{18446744073709551615u}).serialize() == "18446744073709551615");
}

TEST_CASE("json: malformed documents are rejected with the offset of the problem") {
  CHECK(error_of("") == "invalid JSON at offset 0: unexpected end of input");
  CHECK(error_of("[1,]") == "invalid JSON at offset 3: expected a value");
  CHECK(error_of("[1 2]") == "invalid JSON at offset 3: expected ',' or ']'");
  CHECK(error_of("{\"a\":1,\"a\":2}") == "invalid JSON at offset 7: duplicate key \"a\"");
  CHECK(error_of("01") == "invalid JSON at offset 0: invalid number");
  CHECK(error_of("1.") == "invalid JSON at offset 0: invalid number");
  CHECK(error_of("NaN") == "invalid JSON at offset 0: expected a value");
  CHECK(error_of("\"a") == "invalid JSON at offset 2: unterminated string");
  CHECK(error_of("\"\x01\"") == "invalid JSON at offset 1: control character in string");
  CHECK(error_of("\"\xff\"") == "invalid JSON at offset 1: invalid UTF-8 in string");
  CHECK(error_of("\"\xc0\xaf\"") == "invalid JSON at offset 1: invalid UTF-8 in string");
  CHECK(error_of(R"("\ud800")") == "invalid JSON at offset 7: unpaired high surrogate");
  CHECK(error_of(R"("\q")") == "invalid JSON at offset 2: invalid escape");
  CHECK(error_of("{1:2}") == "invalid JSON at offset 1: expected a string key");
  CHECK(error_of("[] x") == "invalid JSON at offset 3: unexpected data after the JSON value");
  CHECK(error_of("// c\n1") == "invalid JSON at offset 0: expected a value");
  CHECK(error_of(std::string(300, '[')) == "invalid JSON at offset 257: nesting too deep");
}

TEST_CASE("json: built values compare structurally") {
  Json a = Json::object();
  a.set("k", Json::array({Json::string("v"), Json::number(int64_t{-3})}));
  auto b = Json::parse(R"({"k":["v",-3]})");
  REQUIRE(b.is_ok());
  CHECK(a == *b);
  CHECK_FALSE(a == Json::object());
}

TEST_CASE("json: integers above 2^63 stay exact through parse, build and serialize; i64 rejects") {
  // 2^63 and 2^64 - 1: a conversion through int64 would wrap them to negative numbers.
  auto v = Json::parse(R"({"a":9223372036854775808,"b":18446744073709551615})");
  REQUIRE(v.is_ok());
  CHECK(v->serialize() == R"({"a":9223372036854775808,"b":18446744073709551615})");
  CHECK(v->find("a")->number_as_u64() == uint64_t{1} << 63);
  CHECK(v->find("b")->number_as_u64() == UINT64_MAX);
  CHECK_FALSE(v->find("a")->number_as_i64().has_value());
  CHECK_FALSE(v->find_i64("b").has_value());
  const Json built = Json::number(uint64_t{1} << 63);
  CHECK(built.serialize() == "9223372036854775808");
  CHECK(built.number_as_u64() == uint64_t{1} << 63);
  CHECK_FALSE(built.number_as_i64().has_value());
  CHECK(Json::number(uint32_t{4294967295u}).serialize() == "4294967295");
  CHECK(Json::number(-7).serialize() == "-7");
}

TEST_CASE(
    "json: typed member lookup answers nullopt for absent members, other types and "
    "non-objects") {
  auto v = Json::parse(R"({"i":-3,"s":"x","b":true,"d":1.5})");
  REQUIRE(v.is_ok());
  CHECK(v->find_i64("i") == -3);
  CHECK(v->find_string("s") == "x");
  CHECK(v->find_bool("b") == true);
  CHECK_FALSE(v->find_i64("d").has_value());
  CHECK_FALSE(v->find_i64("s").has_value());
  CHECK_FALSE(v->find_string("i").has_value());
  CHECK_FALSE(v->find_bool("missing").has_value());
  const Json array = Json::array({Json::number(1)});
  CHECK(array.find("i") == nullptr);
  CHECK_FALSE(array.find_i64("i").has_value());
  CHECK_FALSE(Json::string("1").number_as_i64().has_value());
}

TEST_CASE("json: pretty serialization indents members and items and parses back the same") {
  Json doc = Json::object();
  doc.set("a", Json::array({Json::number(1), Json::object()}));
  doc.set("b", Json::array());
  doc.set("c", Json::string("x"));
  const std::string pretty = doc.serialize_pretty();
  CHECK(pretty == "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": [],\n  \"c\": \"x\"\n}\n");
  auto back = Json::parse(pretty);
  REQUIRE(back.is_ok());
  CHECK(*back == doc);
}
