#include "kvstate/state_machine.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "base/rng.h"
#include "kvmodel/kv_limits.h"
#include "kvstate/snapshot.h"
#include "kvstate/state_limits.h"
#include "kvstate/test_util.h"

using namespace kvmodel;
using namespace kvstate;
using namespace kvstate::testing;
using Kind = WriteOutcome::Kind;

namespace {

std::optional<std::string> value_of(const StateMachine& sm, std::string_view key) {
  const Entry* e = sm.get(key);
  if (e == nullptr) return std::nullopt;
  return e->value.data;
}

std::string error_of(Driver& d, const AtomicWrite& w) {
  auto r = d.apply(w);
  REQUIRE(r.outcome.kind == Kind::kError);
  return r.outcome.error.message();
}

}  // namespace

TEST_CASE("apply: a committed write stamps every mutated key with its versionstamp") {
  Driver d;
  d.next_index = 41;
  auto r = d.apply(write_of({set("a", "1"), set("b", "2"), del("missing")}));
  REQUIRE(r.outcome.kind == Kind::kCommitted);
  CHECK(r.outcome.versionstamp.hex() == "00000000000000290000");
  CHECK(r.changed_keys == std::vector<base::Bytes>{"a", "b", "missing"});
  CHECK(d.sm.get("a")->versionstamp == r.outcome.versionstamp);
  CHECK(d.sm.get("b")->versionstamp == r.outcome.versionstamp);
  CHECK(d.sm.key_count() == 2);
  CHECK(d.sm.last_applied_index() == 41);
  d.sm.check_invariants();
}

TEST_CASE("apply: checks see the state before the write, and any failure applies nothing") {
  Driver d;
  auto first = d.apply(write_of({set("a", "1")}));
  Versionstamp a_version = first.outcome.versionstamp;
  // Passing checks: a has a_version, b is absent; the write then changes both.
  auto ok =
      d.apply(write_of({set("a", "2"), set("b", "x")}, {{"a", a_version}, {"b", std::nullopt}}));
  REQUIRE(ok.outcome.kind == Kind::kCommitted);
  // Now both checks are stale; index 1 and 2 fail, index 0 passes.
  auto failed =
      d.apply(write_of({set("a", "3"), set("c", "y")},
                       {{"b", ok.outcome.versionstamp}, {"a", a_version}, {"b", std::nullopt}}));
  CHECK(failed.outcome.kind == Kind::kCheckFailed);
  CHECK(failed.outcome.failed_checks == std::vector<uint32_t>{1, 2});
  CHECK(failed.changed_keys.empty());
  CHECK(value_of(d.sm, "a") == "2");
  CHECK(d.sm.get("c") == nullptr);
}

TEST_CASE("apply: mutations apply in order and later ones see earlier ones") {
  Driver d;
  d.apply(write_of({set("a", "1"), del("a")}));
  CHECK(d.sm.get("a") == nullptr);
  auto r = d.apply(write_of({del("n"), rmw(MutationKind::kSum, "n", Value::le64(1)),
                             rmw(MutationKind::kSum, "n", Value::le64(2))}));
  REQUIRE(r.outcome.kind == Kind::kCommitted);
  CHECK(d.sm.get("n")->value == Value::le64(3));
  CHECK(r.changed_keys == std::vector<base::Bytes>{"n"});
}

TEST_CASE("apply: a failing mutation aborts the whole write with denokv's message") {
  Driver d;
  d.apply(write_of({set("text", "hello")}));
  std::string message =
      error_of(d, write_of({set("other", "1"), rmw(MutationKind::kSum, "text", Value::le64(1))}));
  CHECK(message == "Failed to perform 'sum' mutation on a non-U64 value in the database");
  CHECK(d.sm.get("other") == nullptr);
  CHECK(error_of(d, write_of({rmw(MutationKind::kMax, "text", Value::le64(1))})) ==
        "Failed to perform 'max' mutation on a non-U64 value in the database");
}

TEST_CASE("apply: u64 sums wrap around; sum/min/max clear expiry, set replaces it") {
  Driver d;
  d.apply(write_of({rmw(MutationKind::kSum, "n", Value::le64(UINT64_MAX))}));
  Mutation with_expiry{MutationKind::kSet, "n", Value::le64(UINT64_MAX), 5000};
  d.apply(write_of({with_expiry}));
  CHECK(d.sm.next_expiry() == 5000);
  d.apply(write_of({rmw(MutationKind::kSum, "n", Value::le64(10))}));
  CHECK(d.sm.get("n")->value == Value::le64(9));
  CHECK(d.sm.get("n")->expire_at_ms == 0);
  CHECK(d.sm.next_expiry() == std::nullopt);
  d.apply(write_of({set("m", "x", 7000)}));
  d.apply(write_of({set("m", "y")}));
  CHECK(d.sm.next_expiry() == std::nullopt);
  d.sm.check_invariants();
}

TEST_CASE("apply: a versionstamped key gets 02 ‖ hex versionstamp ‖ 00 appended") {
  Driver d;
  d.next_index = 0x1234;
  Mutation m = set("\x02log\x00", "v");
  m.key = std::string("\x02log\x00", 5);
  m.kind = MutationKind::kSetSuffixVersionstampedKey;
  auto r = d.apply(write_of({m}));
  REQUIRE(r.outcome.kind == Kind::kCommitted);
  std::string expected = std::string("\x02log\x00", 5) + '\x02' + "00000000000012340000" + '\0';
  CHECK(r.changed_keys == std::vector<base::Bytes>{expected});
  CHECK(value_of(d.sm, expected) == "v");
}

TEST_CASE("apply: limits are enforced before anything is applied, with Deno's messages") {
  Driver d;
  AtomicWrite many_checks = write_of({set("a", "1")});
  many_checks.checks.assign(101, Check{"k", std::nullopt});
  CHECK(error_of(d, many_checks) == "Too many checks (max 100)");
  many_checks.checks.resize(100);
  CHECK(d.apply(many_checks).outcome.kind == Kind::kCommitted);
  std::vector<Mutation> many(1001, set("k", "v"));
  CHECK(error_of(d, write_of(many)) == "Too many mutations (max 1000)");
  CHECK(error_of(d, write_of({set(std::string(2049, 'k'), "v")})) ==
        "Key too large for write (max 2048 bytes)");
  CHECK(d.apply(write_of({set(std::string(2048, 'k'), "v")})).outcome.kind == Kind::kCommitted);
  CHECK(error_of(d, write_of({set("a", "1")}, {{std::string(2050, 'k'), std::nullopt}})) ==
        "Key too large for read (max 2049 bytes)");
  CHECK(error_of(d, write_of({set("k", std::string(65537, 'v'))})) ==
        "Value too large (max 65536 bytes)");
  CHECK(error_of(d, write_of({set("", "v")})) == "key cannot be empty");
  std::vector<Mutation> big;
  for (int i = 0; i < 13; ++i) big.push_back(set("k" + std::to_string(i), std::string(65536, 'v')));
  CHECK(error_of(d, write_of(big)) == "Total mutation size too large (max 819200 bytes)");
  CHECK(error_of(d, write_of({rmw(MutationKind::kSum, "n", Value{ValueEncoding::kLe64, "1"})})) ==
        "Invalid u64 value: expected 8 bytes, got 1");
  AtomicWrite enqueue = write_of({});
  enqueue.enqueues.push_back(Enqueue{std::string(65537, 'p'), 0, {}, {}});
  CHECK(error_of(d, enqueue) == "enqueue payload too large (max 65536 bytes)");
  enqueue.enqueues[0] = Enqueue{"p", 0, std::vector<base::Bytes>(11, "k"), {}};
  CHECK(error_of(d, enqueue) == "Too many dead letter keys for a single queue message.");
  enqueue.enqueues[0] = Enqueue{"p", 0, {}, std::vector<uint32_t>(11, 1)};
  CHECK(error_of(d, enqueue) == "Too many backoff intervals for a single queue message.");
  enqueue.enqueues[0] = Enqueue{"p", 0, {}, {3'600'001}};
  CHECK(error_of(d, enqueue) == "A backoff interval exceeds the maximum allowed backoff interval.");
  enqueue.enqueues[0] = Enqueue{"p", kEnqueueDelayMaxMs + 1, {}, {}};
  CHECK(error_of(d, enqueue) == "Invalid mutation enqueue deadline.");
  CHECK(d.sm.key_count() == 2);
  CHECK(d.sm.queue_size() == 0);
}

TEST_CASE("apply: an empty write commits with a fresh versionstamp") {
  Driver d;
  auto a = d.apply(write_of({}));
  auto b = d.apply(write_of({}));
  REQUIRE(a.outcome.kind == Kind::kCommitted);
  REQUIRE(b.outcome.kind == Kind::kCommitted);
  CHECK(a.outcome.versionstamp < b.outcome.versionstamp);
}

TEST_CASE("apply_entry: command i of a batch gets position i; a corrupt batch applies nothing") {
  StateMachine sm;
  auto results = sm.apply_entry(
      7, encode_batch({write_of({set("a", "1")}), Noop{}, write_of({set("b", "2")})}));
  REQUIRE(results.is_ok());
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].outcome.versionstamp.hex() == "00000000000000070000");
  CHECK((*results)[2].outcome.versionstamp.hex() == "00000000000000070002");
  CHECK(sm.get("b")->versionstamp == Versionstamp::of(7, 2));
  auto empty = sm.apply_entry(8, "");
  REQUIRE(empty.is_ok());
  CHECK(empty->empty());
  auto corrupt = sm.apply_entry(9, "\x01\x01\x63");
  CHECK_FALSE(corrupt.is_ok());
  CHECK(sm.last_applied_index() == 9);
  CHECK(sm.key_count() == 2);
}

TEST_CASE("expiry: a sweep deletes exactly the keys due at its time, as one versioned write") {
  Driver d;
  d.apply(write_of({set("a", "1", 100), set("b", "2", 200), set("c", "3", 300), set("d", "4")}, {},
                   /*now_ms=*/0));
  CHECK(d.sm.next_expiry() == 100);
  auto sweep = d.apply(ExpirySweep{200});
  CHECK(sweep.outcome.kind == Kind::kCommitted);
  CHECK(sweep.changed_keys == std::vector<base::Bytes>{"a", "b"});
  CHECK(d.sm.get("a") == nullptr);
  CHECK(d.sm.get("c") != nullptr);
  CHECK(d.sm.next_expiry() == 300);
  // Expired but unswept keys stay readable (denokv behaviour).
  auto read = d.sm.read({ReadRange{"c", "d", 1, false}});
  REQUIRE(read.is_ok());
  CHECK((*read)[0].size() == 1);
  d.sm.check_invariants();
}

TEST_CASE("reads: ranges are [start, end), limited, optionally reversed, in one snapshot") {
  Driver d;
  d.apply(write_of({set("a", "1"), set("b", "2"), set("c", "3"), set("d", "4")}));
  auto r = d.sm.read({ReadRange{"a", "d", 10, false}, ReadRange{"a", "d", 2, true},
                      ReadRange{"b", "b", 5, false}, ReadRange{"c", "a", 5, false},
                      ReadRange{"b", std::string("b\0", 2), 1, false}});
  REQUIRE(r.is_ok());
  auto keys = [](const std::vector<KvEntry>& entries) {
    std::string out;
    for (const auto& e : entries) out += e.key;
    return out;
  };
  CHECK(keys((*r)[0]) == "abc");
  CHECK(keys((*r)[1]) == "cb");
  CHECK((*r)[2].empty());
  CHECK((*r)[3].empty());
  CHECK(keys((*r)[4]) == "b");
  CHECK((*r)[4][0].value == Value{ValueEncoding::kBytes, "2"});
  CHECK((*r)[4][0].versionstamp == Versionstamp::of(1, 0));
  auto error = [&](std::vector<ReadRange> ranges) { return d.sm.read(ranges).status().message(); };
  CHECK(error(std::vector<ReadRange>(11, ReadRange{"a", "b", 1, false})) ==
        "Too many ranges (max 10)");
  CHECK(error({ReadRange{"a", "b", 0, false}}) == "limit must be greater than 0");
  CHECK(error({ReadRange{"a", "b", 600, false}, ReadRange{"a", "b", 401, false}}) ==
        "Too many entries (max 1000)");
  CHECK(error({ReadRange{std::string(2050, 'a'), "b", 1, false}}) ==
        "Key too large for read (max 2049 bytes)");
}

TEST_CASE("sessions: a retried write returns the stored result without applying again") {
  Driver d;
  AtomicWrite w = write_of({rmw(MutationKind::kSum, "n", Value::le64(1))});
  w.client_id = 42;
  w.sequence = 1;
  auto first = d.apply(w);
  auto retry = d.apply(w);
  CHECK(retry.replayed);
  CHECK(retry.outcome == first.outcome);
  CHECK(d.sm.get("n")->value == Value::le64(1));
  // Check failures and errors are remembered too.
  AtomicWrite failing = write_of({}, {{"n", std::nullopt}});
  failing.client_id = 42;
  failing.sequence = 2;
  auto failed = d.apply(failing);
  CHECK(failed.outcome.kind == Kind::kCheckFailed);
  d.apply(write_of({del("n")}));  // now the check would pass
  auto failed_retry = d.apply(failing);
  CHECK(failed_retry.replayed);
  CHECK(failed_retry.outcome.kind == Kind::kCheckFailed);
  // A new sequence applies; sequence 0 never deduplicates.
  w.sequence = 3;
  CHECK_FALSE(d.apply(w).replayed);
  w.sequence = 0;
  CHECK_FALSE(d.apply(w).replayed);
  CHECK(d.sm.get("n")->value == Value::le64(2));
}

TEST_CASE("sessions: results older than the kept window come back as unknown outcome") {
  Driver d;
  AtomicWrite w = write_of({set("k", "v")});
  w.client_id = 5;
  for (uint64_t seq = 1; seq <= kSessionResultsKept + 1; ++seq) {
    w.sequence = seq;
    d.apply(w);
  }
  w.sequence = 1;
  auto old = d.apply(w);
  CHECK(old.outcome.kind == Kind::kError);
  CHECK(old.outcome.error.code() == base::Code::kUnknownOutcome);
  CHECK(old.outcome.error.message() ==
        "write 1 of client 5 is too old: its result is no longer kept");
  w.sequence = 2;
  CHECK(d.apply(w).replayed);
}

TEST_CASE("sessions: bounded by least-recent use and expired after idle time") {
  Driver d;
  AtomicWrite w = write_of({});
  w.sequence = 1;
  for (uint64_t client = 1; client <= kSessionsMax + 1; ++client) {
    w.client_id = client;
    d.apply(w);
  }
  CHECK(d.sm.session_count() == kSessionsMax);
  w.client_id = 1;  // evicted: applies again
  CHECK_FALSE(d.apply(w).replayed);
  w.client_id = 3;  // still there
  CHECK(d.apply(w).replayed);
  d.sm.check_invariants();
  AtomicWrite later = write_of({}, {}, 1000 + kSessionIdleMs);
  later.client_id = 99999;
  later.sequence = 1;
  d.apply(later);
  CHECK(d.sm.session_count() == 1);
  d.sm.check_invariants();
}

TEST_CASE("apply: writes of sets and deletes with repeated keys match a map model") {
  // Writes without sum/min/max skip staging; mixing in min (staged path) checks both agree.
  base::Rng rng(42);
  Driver d;
  std::map<std::string, std::pair<Value, uint64_t>> model;  // key -> (value, expire_at_ms)
  for (int round = 0; round < 500; ++round) {
    std::vector<Mutation> ms;
    std::vector<base::Bytes> touched;
    auto staged = model;
    const size_t n = 1 + rng.uniform(6);
    for (size_t i = 0; i < n; ++i) {
      std::string key(1, static_cast<char>('a' + rng.uniform(5)));
      const uint64_t kind = rng.uniform(round % 2 == 0 ? 2 : 3);
      if (kind == 0) {
        uint64_t expire = rng.chance(1, 3) ? 10'000 + rng.uniform(100) : 0;
        ms.push_back(set(key, std::to_string(rng.uniform(1000)), expire));
        staged[key] = {ms.back().value, expire};
      } else if (kind == 1) {
        ms.push_back(del(key));
        staged.erase(key);
      } else {
        key = "m";
        Value operand = Value::le64(rng.uniform(1000));
        ms.push_back(rmw(MutationKind::kMin, key, operand));
        auto it = staged.find(key);
        if (it != staged.end() && le64_of(it->second.first) < le64_of(operand)) {
          operand = it->second.first;
        }
        staged[key] = {operand, 0};
      }
      if (std::find(touched.begin(), touched.end(), key) == touched.end()) touched.push_back(key);
    }
    const Versionstamp vs = d.next_versionstamp();
    auto r = d.apply(write_of(std::move(ms)));
    REQUIRE(r.outcome.kind == Kind::kCommitted);
    CHECK(r.changed_keys == touched);
    model = std::move(staged);
    for (const auto& key : touched) {
      const Entry* e = d.sm.get(key);
      auto it = model.find(key);
      REQUIRE((e != nullptr) == (it != model.end()));
      if (e == nullptr) continue;
      CHECK(e->value == it->second.first);
      CHECK(e->expire_at_ms == it->second.second);
      CHECK(e->versionstamp == vs);
    }
  }
  CHECK(d.sm.key_count() == model.size());
  d.sm.check_invariants();
}

TEST_CASE("apply_entry: moving out of the decoded batch gives the state and results of apply") {
  base::Rng rng(7);
  StateMachine by_entry;
  StateMachine by_command;
  for (uint64_t index = 1; index <= 60; ++index) {
    std::vector<Command> batch;
    for (size_t c = 0; c < 1 + rng.uniform(5); ++c) {
      std::vector<Mutation> ms;
      for (size_t i = 0; i < 1 + rng.uniform(4); ++i) {
        std::string key(1, static_cast<char>('a' + rng.uniform(4)));
        if (rng.chance(1, 4)) {
          ms.push_back(del(key));
        } else {
          ms.push_back(set(key, std::string(1 + rng.uniform(40), 'x'), rng.uniform(2) * 9000));
        }
      }
      batch.push_back(write_of(std::move(ms)));
    }
    auto results = by_entry.apply_entry(index, encode_batch(batch));
    REQUIRE(results.is_ok());
    REQUIRE(results->size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      CommandResult expected =
          by_command.apply(batch[i], Versionstamp::of(index, static_cast<uint16_t>(i)));
      CHECK((*results)[i].outcome == expected.outcome);
      CHECK((*results)[i].changed_keys == expected.changed_keys);
    }
  }
  std::string a, b;
  by_entry.snapshot_view().write([&](base::BytesView chunk) { a.append(chunk); });
  by_command.snapshot_view().write([&](base::BytesView chunk) { b.append(chunk); });
  CHECK(a == b);
  by_entry.check_invariants();
}
