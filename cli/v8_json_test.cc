#include "cli/v8_json.h"

#include <doctest/doctest.h>

#include "base/rng.h"

namespace {

// Vectors produced with Node.js 20.20 (V8 11.3, same wire format and version 15 header as
// Deno's core.serialize):
//   node -e 'console.log(require("v8").serialize(JSON.parse(TEXT)).toString("hex"))'
struct Vector {
  const char* json;
  const char* hex;
};
const Vector kVectors[] = {
    {"null", "ff0f30"},
    {"true", "ff0f54"},
    {"false", "ff0f46"},
    {"5", "ff0f490a"},
    {"-1", "ff0f4901"},
    {"0", "ff0f4900"},
    {"1.5", "ff0f4e000000000000f83f"},
    {"-0", "ff0f4e0000000000000080"},
    {"2147483647", "ff0f49feffffff0f"},
    {"2147483648", "ff0f4e000000000000e041"},
    {"-2147483648", "ff0f49ffffffff0f"},
    {R"("hi")", "ff0f22026869"},
    {R"("")", "ff0f2200"},
    {R"("café")", "ff0f2204636166e9"},
    {R"("€")", "ff0f6302ac20"},
    {R"("a€b")", "ff0f63066100ac206200"},
    {R"("😀")", "ff0f63043dd800de"},
    {R"("😀x")", "ff0f63063dd800de7800"},
    {R"("a\u0000b")", "ff0f2203610062"},
    {R"({"a":1,"b":"x"})", "ff0f6f22016149022201622201787b02"},
    {R"({"b":1,"1":2,"a":3,"0":4})", "ff0f6f4900490849024904220162490222016149067b04"},
    {R"({"4294967294":1,"4294967295":2})",
     "ff0f6f4e0000c0ffffffef414902220a3432393439363732393549047b02"},
    {"[1,2,3]", "ff0f4103490249044906240003"},
    {"[1,1.5]", "ff0f41024e000000000000f03f4e000000000000f83f240002"},
    {"[]", "ff0f4100240000"},
    {"{}", "ff0f6f7b00"},
    {R"([null,"a",{"k":[true]}])", "ff0f4103302201616f22016b4101542400017b01240003"},
    {R"({"x":"€"})", "ff0f6f2201786302ac207b01"},
    {R"({"xy":"€"})", "ff0f6f22027879006302ac207b01"},  // padding before 'c'
    {R"([1,"a",2.5])", "ff0f410349022201614e0000000000000440240003"},
    {R"([1.5,"a"])", "ff0f41024e000000000000f83f220161240002"},
    {R"({"été":true})", "ff0f6f2203e974e9547b01"},
    {"[[1,2],[3.5]]", "ff0f410241024902490424000241014e0000000000000c40240001240002"},
    {R"({"n":-7,"big":1e300,"neg":-2147483649})",
     "ff0f6f22016e490d22036269674e9c7500883ce4377e22036e65674e000020000000e0c17b03"},
    {"[4294967295]", "ff0f41014e0000e0ffffffef41240001"},
};

base::Json parse(std::string_view text) { return base::Json::parse(text).value(); }

base::Bytes unhex(std::string_view hex) { return base::from_hex(hex).value(); }

std::string decode_error(std::string_view hex) {
  auto r = cli::json_from_v8(unhex(hex));
  REQUIRE_FALSE(r.is_ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("v8_json: JSON values encode to the exact bytes V8 writes for JSON.parse(text)") {
  for (const Vector& v : kVectors) {
    CAPTURE(v.json);
    CHECK(base::to_hex(cli::v8_from_json(parse(v.json))) == v.hex);
  }
}

TEST_CASE("v8_json: V8 bytes decode back to the same JSON value") {
  for (const Vector& v : kVectors) {
    CAPTURE(v.json);
    auto decoded = cli::json_from_v8(unhex(v.hex));
    REQUIRE(decoded.is_ok());
    // Compare through a re-encode: number text may differ ("1e300" vs "1e+300") but the
    // values must not. Object key order follows V8 (indices first), so compare the bytes.
    CHECK(base::to_hex(cli::v8_from_json(*decoded)) == v.hex);
  }
  CHECK(cli::json_from_v8(unhex("ff0f6f22016149022201622201787b02"))->serialize() ==
        R"({"a":1,"b":"x"})");
  CHECK(cli::json_from_v8(unhex("ff0f4e0000000000000080"))->serialize() == "-0");
}

TEST_CASE("v8_json: bigints decode as {\"bigint\": decimal}, also V8's 8-byte digit groups") {
  // node: v8.serialize(42n), v8.serialize(-42n), v8.serialize(2n**64n), v8.serialize(0n)
  CHECK(cli::json_from_v8(unhex("ff0f5a102a00000000000000"))->serialize() == R"({"bigint":"42"})");
  CHECK(cli::json_from_v8(unhex("ff0f5a112a00000000000000"))->serialize() == R"({"bigint":"-42"})");
  CHECK(cli::json_from_v8(unhex("ff0f5a2000000000000000000100000000000000"))->serialize() ==
        R"({"bigint":"18446744073709551616"})");
  CHECK(cli::json_from_v8(unhex("ff0f5a00"))->serialize() == R"({"bigint":"0"})");
  CHECK(cli::json_from_v8(unhex("ff0f5a022b"))->serialize() == R"({"bigint":"43"})");  // minimal
}

TEST_CASE("v8_json: the legacy and read-only forms decode (padding, 'U', 'S', version 13)") {
  CHECK(cli::json_from_v8(unhex("ff0f00004905"))->serialize() == "-3");
  CHECK(cli::json_from_v8(unhex("ff0f55ffffffff0f"))->serialize() == "4294967295");
  CHECK(cli::json_from_v8(unhex("ff0d5303e282ac"))->serialize() == R"("€")");
  CHECK(cli::json_from_v8(unhex("ff0f6302ffdb"))->serialize() == "\"\xEF\xBF\xBD\"");  // lone
}

TEST_CASE("v8_json: non-JSON values and garbage are refused with the offset and reason") {
  CHECK(decode_error("") == "invalid V8 value at offset 0: missing the FF header");
  CHECK(decode_error("ff") == "invalid V8 value at offset 1: unsupported format version 0");
  CHECK(decode_error("ff0c30").find("unsupported format version 12") != std::string::npos);
  CHECK(decode_error("ff0f440000000000000000") ==  // new Date(0)
        "invalid V8 value at offset 2: unsupported tag 0x44 ('D'): not a JSON-compatible value");
  CHECK(decode_error("ff0f5f").find("unsupported tag 0x5f") != std::string::npos);  // undefined
  CHECK(decode_error("ff0f4e000000000000f87f").find("NaN") != std::string::npos);
  // [o.self, o.self]: the second element is a back reference '^'.
  CHECK(decode_error("ff0f4102410149022400015e01240002").find("tag 0x5e") != std::string::npos);
  CHECK(decode_error("ff0f3030") == "invalid V8 value at offset 3: trailing bytes after the value");
  CHECK(decode_error("ff0f2205616263").find("bad string length") != std::string::npos);
  CHECK(decode_error("ff0f6303616263").find("odd UTF-16") != std::string::npos);
  CHECK(decode_error("ff0f41ffffffff0f").find("bad array length") != std::string::npos);
  CHECK(decode_error("ff0f6f2201614900220161490a7b02").find("duplicate property 'a'") !=
        std::string::npos);
  CHECK(decode_error("ff0f6f22016149007b05").find("count mismatch") != std::string::npos);
  CHECK(decode_error("ff0f4101302400").find("array length mismatch") != std::string::npos);
  CHECK(decode_error("ff0f5a0a0102").find("truncated bigint") != std::string::npos);
  CHECK(decode_error("ff0f53028080").find("invalid UTF-8") != std::string::npos);
}

TEST_CASE("v8_json: deep nesting is refused, not a stack overflow") {
  std::string hex = "ff0f";
  for (int i = 0; i < 100000; ++i) hex += "4101";
  CHECK(decode_error(hex).find("nesting too deep") != std::string::npos);
}

TEST_CASE("v8_json: random and mutated inputs never crash the reader") {
  base::Rng rng(7);
  std::vector<base::Bytes> seeds;
  for (const Vector& v : kVectors) seeds.push_back(unhex(v.hex));
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    base::Bytes b = seeds[rng.uniform(seeds.size())];
    int edits = 1 + static_cast<int>(rng.uniform(3));
    for (int e = 0; e < edits && !b.empty(); ++e) {
      size_t at = rng.uniform(b.size());
      switch (rng.uniform(3)) {
        case 0:
          b[at] = static_cast<char>(rng.uniform(256));
          break;
        case 1:
          b.resize(at);
          break;
        default:
          b.insert(at, 1, static_cast<char>(rng.uniform(256)));
          break;
      }
    }
    auto r = cli::json_from_v8(b);
    if (r.is_ok()) {
      ++decoded;
      // Whatever decodes re-encodes and decodes to the same value.
      auto again = cli::json_from_v8(cli::v8_from_json(*r));
      REQUIRE(again.is_ok());
      CHECK(cli::v8_from_json(*again) == cli::v8_from_json(*r));
    }
  }
  CHECK(decoded > 0);
}
