#include "cli/selectors.h"

#include <doctest/doctest.h>

#include <map>

#include "kvmodel/key.h"

using base::Bytes;
using cli::ListBounds;
using cli::ListOptions;
using cli::ListPager;
using cli::Selector;

namespace {

// Tuple-encodes a key of string parts.
Bytes k(std::initializer_list<const char*> parts) {
  kvmodel::Key key;
  for (const char* p : parts) key.push_back(kvmodel::KeyPart::string(p));
  return kvmodel::encode_key(key).value();
}

std::string hex(const Bytes& b) { return base::to_hex(b); }

std::string error_of(const Selector& s) {
  auto b = ListBounds::create(s);
  REQUIRE_FALSE(b.is_ok());
  return b.status().message();
}

// A sorted store answering ReadRanges the way the server does: [start, end), limit, direction.
struct FakeStore {
  std::map<Bytes, int> rows;
  int reads = 0;

  std::vector<kvmodel::KvEntry> read(const kvmodel::ReadRange& r) {
    ++reads;
    std::vector<kvmodel::KvEntry> out;
    auto add = [&](const Bytes& key) {
      kvmodel::KvEntry e;
      e.key = key;
      out.push_back(e);
      return out.size() < r.limit;
    };
    auto lo = rows.lower_bound(r.start);
    auto hi = rows.lower_bound(r.end);
    if (r.start >= r.end) return out;
    if (!r.reverse) {
      for (auto it = lo; it != hi; ++it)
        if (!add(it->first)) break;
    } else {
      for (auto it = hi; it != lo;)
        if (!add((--it)->first)) break;
    }
    return out;
  }
};

// Lists to the end; returns the keys' second parts joined, and the final cursor.
std::pair<std::string, std::string> run(FakeStore& store, const Selector& s, const ListOptions& o) {
  auto pager = ListPager::create(s, o);
  REQUIRE(pager.is_ok());
  std::string seen;
  while (!pager->done()) {
    auto range = pager->next_range();
    REQUIRE(range.is_ok());
    auto batch = pager->accept(store.read(*range));
    REQUIRE(batch.is_ok());
    for (const auto& e : *batch) {
      auto key = kvmodel::decode_key(e.key).value();
      seen += key.back().string_value();
    }
  }
  return {seen, pager->cursor().value_or("")};
}

FakeStore abcde() {
  FakeStore store;
  for (const char* p : {"a", "b", "c", "d", "e"}) store.rows[k({"a", p})] = 0;
  store.rows[k({"a"})] = 0;       // the prefix key itself: never in a prefix listing
  store.rows[k({"b", "x"})] = 0;  // outside the prefix
  return store;
}

}  // namespace

TEST_CASE("selectors: a prefix covers [P 00, P FF) and excludes the prefix key itself") {
  auto b = ListBounds::create({.prefix = k({"a"})}).value();
  CHECK(hex(b.range_start()) == "02610000");
  CHECK(hex(b.range_end()) == "026100ff");
  CHECK(hex(Bytes(b.common_prefix())) == "026100");
  auto all = ListBounds::create({.prefix = Bytes()}).value();
  CHECK(hex(all.range_start()) == "00");
  CHECK(hex(all.range_end()) == "ff");
}

TEST_CASE("selectors: prefix+start, prefix+end and start+end bounds") {
  auto ps = ListBounds::create({.prefix = k({"a"}), .start = k({"a", "c"})}).value();
  CHECK(ps.range_start() == k({"a", "c"}));
  CHECK(hex(ps.range_end()) == "026100ff");
  auto pe = ListBounds::create({.prefix = k({"a"}), .end = k({"a", "c"})}).value();
  CHECK(hex(pe.range_start()) == "02610000");
  CHECK(pe.range_end() == k({"a", "c"}));
  auto se = ListBounds::create({.start = k({"a"}), .end = k({"a", "d"})}).value();
  CHECK(se.range_start() == k({"a"}));
  CHECK(se.range_end() == k({"a", "d"}));
  CHECK(hex(Bytes(se.common_prefix())) == "026100");
}

TEST_CASE("selectors: invalid selectors fail with Deno's messages") {
  CHECK(error_of({.prefix = k({"a"}), .start = k({"b", "c"})}) ==
        "Start key is not in the keyspace defined by prefix");
  CHECK(error_of({.prefix = k({"a"}), .start = k({"a"})}) ==
        "Start key is not in the keyspace defined by prefix");
  CHECK(error_of({.prefix = k({"a"}), .end = k({"a"})}) ==
        "End key is not in the keyspace defined by prefix");
  CHECK(error_of({.start = k({"b"}), .end = k({"a"})}) == "Start key is greater than end key");
  CHECK(error_of({.prefix = k({"a"}), .start = k({"a", "b"}), .end = k({"a", "c"})}) ==
        "Selector can not specify both 'start' and 'end' key when specifying 'prefix'");
  CHECK(error_of({.start = k({"a"})}) ==
        "Selector must specify either 'prefix' or both 'start' and 'end' key");
  CHECK(ListBounds::create({.start = k({"a"}), .end = k({"a"})}).is_ok());  // empty, not an error
}

TEST_CASE("selectors: cursors are base64url of the last key minus the prefix (spec 1.6)") {
  auto b = ListBounds::create({.prefix = k({"a"})}).value();
  CHECK(b.encode_cursor(k({"a", "b"})).value() == "AmIA");
  CHECK(b.encode_cursor(k({"a", "d"})).value() == "AmQA");
  CHECK_FALSE(b.encode_cursor(k({"b", "d"})).is_ok());
  auto fwd = b.resume("AmIA", false).value();
  CHECK(hex(fwd.first) == "02610002620000");
  CHECK(hex(fwd.second) == "026100ff");
  auto rev = b.resume("AmQA", true).value();
  CHECK(hex(rev.first) == "02610000");
  CHECK(hex(rev.second) == "026100026400");
}

TEST_CASE("selectors: a cursor outside the explicit start or end is out of bounds") {
  auto b = ListBounds::create({.start = k({"a", "c"}), .end = k({"a", "e"})}).value();
  // Common prefix of 02 61 00 02 63 00 and 02 61 00 02 65 00 is 02 61 00 02.
  CHECK(b.encode_cursor(k({"a", "d"})).value() == base::base64_encode(Bytes("\x64\x00", 2), true));
  auto before = b.resume(base::base64_encode("a", true), false);  // ["a","a"] < start
  REQUIRE_FALSE(before.is_ok());
  CHECK(before.status().message() == "cursor out of bounds");
  auto after = b.resume(base::base64_encode("z", true), true);  // end beyond ["a","e"]
  REQUIRE_FALSE(after.is_ok());
  CHECK(after.status().message() == "cursor out of bounds");
  auto garbage = b.resume("!!!", false);
  REQUIRE_FALSE(garbage.is_ok());
  CHECK(garbage.status().message().find("invalid cursor") != std::string::npos);
}

TEST_CASE("selectors: options are validated like Deno's list()") {
  auto sel = Selector{.prefix = k({"a"})};
  CHECK(ListPager::create(sel, {.limit = 0}).status().message() == "Limit must be positive");
  CHECK(ListPager::create(sel, {.batch_size = 0}).status().message() ==
        "Batch size must be positive");
  CHECK(ListPager::create(sel, {.batch_size = 1001}).status().message() ==
        "Too many entries (max 1000)");
  CHECK(ListPager::create(sel, {}).value().batch_size() == 100);
  CHECK(ListPager::create(sel, {.limit = 7}).value().batch_size() == 7);
  CHECK(ListPager::create(sel, {.limit = 800}).value().batch_size() == 500);
  CHECK(ListPager::create(sel, {.batch_size = 800}).value().batch_size() == 800);
  CHECK(ListPager::create(sel, {.cursor = "%%"}).status().message().find("invalid cursor") == 0);
  Bytes huge(3000, 'x');
  CHECK(ListPager::create({.prefix = huge}, {}).status().message() ==
        "Key too large for read (max 2049 bytes)");
}

TEST_CASE("selectors: batched listing yields every entry once, in order, in both directions") {
  FakeStore store = abcde();
  Selector sel{.prefix = k({"a"})};
  CHECK(run(store, sel, {}).first == "abcde");
  store.reads = 0;
  CHECK(run(store, sel, {.batch_size = 2}).first == "abcde");
  CHECK(store.reads == 3);  // 2 + 2 + 1: the short batch ends the listing
  store.reads = 0;
  CHECK(run(store, sel, {.batch_size = 5}).first == "abcde");
  CHECK(store.reads == 2);  // a full batch needs one more (empty) read to know it was the last
  CHECK(run(store, sel, {.reverse = true, .batch_size = 2}).first == "edcba");
}

TEST_CASE(
    "selectors: limit stops early and the cursor resumes where it stopped (Deno's "
    "manual cursor test)") {
  FakeStore store = abcde();
  Selector sel{.prefix = k({"a"})};
  auto [first, cursor] = run(store, sel, {.limit = 2, .batch_size = 1});
  CHECK(first == "ab");
  CHECK(cursor == "AmIA");
  CHECK(run(store, sel, {.cursor = cursor}).first == "cde");
  auto [rfirst, rcursor] = run(store, sel, {.limit = 2, .reverse = true});
  CHECK(rfirst == "ed");
  CHECK(rcursor == "AmQA");
  CHECK(run(store, sel, {.reverse = true, .cursor = rcursor}).first == "cba");
}

TEST_CASE("selectors: a range selector includes a shorter key at its start (list range nesting)") {
  FakeStore store = abcde();
  auto pager = ListPager::create({.start = k({"a"}), .end = k({"a", "d"})}, {}).value();
  auto batch = pager.accept(store.read(pager.next_range().value())).value();
  REQUIRE(batch.size() == 4);
  CHECK(batch[0].key == k({"a"}));
  CHECK(batch[3].key == k({"a", "c"}));
  CHECK(pager.done());
}

TEST_CASE("selectors: a server answer outside the range or over the limit is refused") {
  auto pager = ListPager::create({.prefix = k({"a"})}, {.batch_size = 1}).value();
  kvmodel::KvEntry outside;
  outside.key = k({"b"});
  auto bad = pager.accept({outside});
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().code() == base::Code::kCorruption);
  kvmodel::KvEntry inside;
  inside.key = k({"a", "x"});
  auto too_many = pager.accept({inside, inside});
  REQUIRE_FALSE(too_many.is_ok());
  CHECK(pager.yielded() == 0);
  CHECK_FALSE(pager.done());
}
