#include <doctest/doctest.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/rng.h"
#include "base/status.h"

using namespace base;

TEST_CASE("base: byte coding round-trips fixed-width and varint integers") {
  Bytes out;
  put_u16_be(out, 0x1234);
  put_u32_le(out, 0xdeadbeef);
  put_u64_le(out, 0x0102030405060708ull);
  put_u64_be(out, 0x0102030405060708ull);
  put_varint(out, 300);
  put_length_prefixed(out, "abc");
  CHECK(to_hex(out.substr(0, 2)) == "1234");
  CHECK(to_hex(out.substr(2, 4)) == "efbeadde");
  Reader r(out);
  uint16_t a;
  uint32_t b;
  uint64_t c, d, e;
  BytesView s;
  REQUIRE(r.u16_be(a));
  REQUIRE(r.u32_le(b));
  REQUIRE(r.u64_le(c));
  REQUIRE(r.u64_be(d));
  REQUIRE(r.varint(e));
  REQUIRE(r.length_prefixed(s));
  CHECK(a == 0x1234);
  CHECK(b == 0xdeadbeef);
  CHECK(c == 0x0102030405060708ull);
  CHECK(d == 0x0102030405060708ull);
  CHECK(e == 300);
  CHECK(s == "abc");
  CHECK(r.empty());
  CHECK(!r.u8(*reinterpret_cast<uint8_t*>(&a)));
  CHECK(!r.ok());
}

TEST_CASE("base: a reader refuses a length prefix longer than its input") {
  Bytes out;
  put_varint(out, 10);
  out += "abc";
  Reader r(out);
  BytesView s;
  CHECK(!r.length_prefixed(s));
  CHECK(!r.ok());
}

TEST_CASE("base: hex and base64 match RFC 4648 vectors and reject junk") {
  CHECK(to_hex(Bytes("\x00\xff\x10", 3)) == "00ff10");
  CHECK(from_hex("00FF10") == Bytes("\x00\xff\x10", 3));
  CHECK(!from_hex("0"));
  CHECK(!from_hex("zz"));
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CHECK(base64_encode(plain[i]) == coded[i]);
    CHECK(base64_decode(coded[i]) == Bytes(plain[i]));
  }
  CHECK(base64_encode(Bytes("\x02\x62\x00", 3), true) == "AmIA");
  CHECK(base64_decode("AmIA", true) == Bytes("\x02\x62\x00", 3));
  CHECK(base64_encode("\xfb\xff", false) == "+/8=");
  CHECK(base64_encode("\xfb\xff", true) == "-_8=");
  CHECK(!base64_decode("Zg=", false));
  CHECK(!base64_decode("Z!==", false));
  CHECK(!base64_decode("Zh==", false));  // non-canonical trailing bits
}

TEST_CASE("base: the seeded generator is reproducible and stays in range") {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next();
    CHECK(x == b.next());
    differs |= x != c.next();
    uint64_t u = a.uniform(7);
    b.uniform(7);
    CHECK(u < 7);
    uint64_t r = a.range(3, 5);
    b.range(3, 5);
    CHECK(r >= 3);
    CHECK(r <= 5);
  }
  CHECK(differs);
}

TEST_CASE("base: status and result carry errors as values") {
  Status ok;
  CHECK(ok.is_ok());
  Status bad = invalid_argument("Key too large for write (max {} bytes)", 2048);
  CHECK(!bad.is_ok());
  CHECK(bad.to_string() == "invalid argument: Key too large for write (max 2048 bytes)");
  Result<int> r = 5;
  CHECK(r.is_ok());
  CHECK(*r == 5);
  Result<int> e = bad;
  CHECK(!e.is_ok());
  CHECK(e.status().code() == Code::kInvalidArgument);
}

TEST_CASE("base: xxh3 matches the reference value of the empty input") {
  CHECK(xxh3("") == 0x2D06800538D394C2ull);
  CHECK(xxh3("a") != xxh3("b"));
}
