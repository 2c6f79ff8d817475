#include <doctest/doctest.h>

#include "kvstate/command.h"
#include "kvstate/test_util.h"

using namespace kvmodel;
using namespace kvstate;

namespace {

std::vector<Command> every_kind() {
  AtomicWrite w;
  w.client_id = 7;
  w.sequence = 300;
  w.now_ms = 1'700'000'000'000;
  w.checks = {{"k1", std::nullopt}, {"k2", Versionstamp::of(5, 1)}};
  w.mutations.push_back(testing::set("a", "v", 99));
  w.mutations.push_back(testing::del("b"));
  Mutation sum =
      testing::rmw(MutationKind::kSum, "c", Value{ValueEncoding::kV8, "\xff\x0f\x49\x0a"});
  sum.sum_min_v8 = "\xff\x0f\x49\x00";
  sum.sum_clamp = true;
  w.mutations.push_back(sum);
  w.mutations.push_back(testing::rmw(MutationKind::kMin, "d", Value::le64(1)));
  w.mutations.push_back(testing::rmw(MutationKind::kMax, "e", Value::le64(2)));
  Mutation suffixed = testing::set("f", "w");
  suffixed.kind = MutationKind::kSetSuffixVersionstampedKey;
  w.mutations.push_back(suffixed);
  w.enqueues.push_back(Enqueue{"payload", 50, {"dl1", "dl2"}, {1, 2, 3}});
  Versionstamp token = Versionstamp::of(9, 2);
  base::Bytes id(12, 'i');
  return {w,
          QueueLease{10, 3, 4, 5000},
          QueueAck{id, token},
          QueueNack{id, token, 11},
          QueueExtend{id, token, 12, 6000},
          ExpireLeases{13},
          ExpirySweep{14},
          Noop{}};
}

std::string decode_error(const base::Bytes& data) {
  auto r = decode_batch(data);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == base::Code::kCorruption);
  return r.status().message();
}

}  // namespace

TEST_CASE("commands: a batch with every command kind round-trips exactly") {
  auto commands = every_kind();
  base::Bytes encoded = encode_batch(commands);
  auto decoded = decode_batch(encoded);
  REQUIRE(decoded.is_ok());
  CHECK(*decoded == commands);
  CHECK(base::to_hex(encode_batch({Noop{}})) == "010108");
  CHECK(base::to_hex(encode_batch({ExpirySweep{300}})) == "010107ac02");
}

TEST_CASE("commands: every truncation of a batch is rejected, never misread") {
  base::Bytes encoded = encode_batch(every_kind());
  for (size_t n = 0; n < encoded.size(); ++n) {
    INFO("prefix length " << n);
    CHECK_FALSE(decode_batch(encoded.substr(0, n)).is_ok());
  }
}

TEST_CASE("commands: malformed batches give a clear error with an offset") {
  CHECK(decode_error(base::from_hex("020108").value()) ==
        "bad command batch: unknown format version at offset 1");
  CHECK(decode_error(base::from_hex("010109").value()) ==
        "bad command batch: unknown command type at offset 3");
  CHECK(decode_error(base::from_hex("01010800").value()) ==
        "bad command batch: trailing bytes at offset 3");
  CHECK(decode_error(base::from_hex("0105").value()) ==
        "bad command batch: command count at offset 2");
  // An atomic write whose single mutation has kind 6 (not a Deno mutation type).
  CHECK(decode_error(base::from_hex("0101"
                                    "01"
                                    "00"
                                    "00"
                                    "00"
                                    "00"
                                    "01"
                                    "06"
                                    "0161"
                                    "00"
                                    "00")
                         .value()) == "bad command batch: unknown mutation kind at offset 9");
  // A set whose value encoding is 4.
  CHECK(decode_error(base::from_hex("0101"
                                    "01"
                                    "000000"
                                    "00"
                                    "01"
                                    "01"
                                    "0161"
                                    "04"
                                    "0176"
                                    "00"
                                    "00")
                         .value()) == "bad command batch: unknown value encoding at offset 12");
  // A check whose versionstamp flag is 2.
  CHECK(decode_error(base::from_hex("0101"
                                    "01"
                                    "000000"
                                    "01"
                                    "0161"
                                    "02")
                         .value()) == "bad command batch: check versionstamp flag at offset 10");
  // An ack whose message id is 3 bytes.
  CHECK(decode_error(base::from_hex("0101"
                                    "03"
                                    "03616263"
                                    "00000000000000000000")
                         .value()) == "bad command batch: message id length at offset 7");
  // An extension's visibility beyond u32 (it is one on the client's wire too).
  CHECK(decode_error(base::from_hex("0101"
                                    "05"
                                    "0c313233343536373839303132"
                                    "00000000000000090000"
                                    "00"
                                    "8080808010")
                         .value()) == "bad command batch: visibility_ms at offset 32");
  // now_ms beyond 2^53.
  CHECK(decode_error(base::from_hex("0101"
                                    "07"
                                    "808080808080808010")
                         .value()) == "bad command batch: now_ms at offset 12");
}
