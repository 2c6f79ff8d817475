#include "net/client_codec.h"

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include "net/client_generated.h"

namespace {

net::Versionstamp vs(uint8_t last) { return {0, 0, 0, 0, 0, 0, 0, 9, 0, last}; }

std::vector<net::RequestBody> every_request() {
  net::AtomicWrite write{0xC11E47, 17, {}, {}, {}};
  write.checks = {{"k1", vs(1)}, {"k2", std::nullopt}};
  write.mutations = {
      {net::MutationType::kSet, "a", net::Value{net::ValueEncoding::kV8, "\xff\x0f\x22"},
       1700000000000, "", "", false},
      {net::MutationType::kDelete, "b", std::nullopt, 0, "", "", false},
      {net::MutationType::kSum, "c", net::Value{net::ValueEncoding::kLe64, std::string(8, '\1')}, 0,
       "min", "max", true},
      {net::MutationType::kMin, "d", net::Value{net::ValueEncoding::kLe64, std::string(8, '\2')}, 0,
       "", "", false},
      {net::MutationType::kMax, "e", net::Value{net::ValueEncoding::kBytes, ""}, 0, "", "", false},
      {net::MutationType::kSetSuffixVersionstampedKey, "f",
       net::Value{net::ValueEncoding::kBytes, "x"}, -1, "", "", false}};
  write.enqueues = {{"payload", 250, {"dead1", "dead2"}, {100, 1000}}, {"p2", 0, {}, {}}};
  return {net::SnapshotRead{{{"a", "b", 10, true}, {std::string("\0", 1), "\xff", 1000, false}},
                            net::Consistency::kEventual},
          write,
          net::AtomicWrite{},
          net::Watch{{"k1", "k2"}, vs(3)},
          net::Watch{{"only"}, std::nullopt},
          net::QueueListen{"worker-1", 8, 30000},
          net::QueueAck{"id-1", 77},
          net::QueueNack{"id-2", 78},
          net::QueueExtend{"id-3", 79, 5000},
          net::StatusRequest{true},
          net::MemberList{},
          net::MemberAdd{4, "127.0.0.1:4604", "127.0.0.1:4504"},
          net::MemberRemove{2},
          net::LeaderTransfer{3},
          net::Cancel{12}};
}

std::vector<net::ResponseBody> every_response() {
  net::KvEntry e1{"k1", {net::ValueEncoding::kV8, "v1"}, vs(1)};
  net::KvEntry e2{"k2", {net::ValueEncoding::kBytes, ""}, vs(2)};
  return {
      net::SnapshotReadResult{{{e1, e2}, {}}, true},
      net::AtomicWriteResult{true, vs(5), {}},
      net::AtomicWriteResult{false, std::nullopt, {0, 2}},
      net::WatchEvent{{{"k1", e1}, {"gone", std::nullopt}}},
      net::QueueDelivery{"msg-1", 99, "payload", 3},
      net::StatusResult{
          {{1, net::Role::kLeader, 5, 1, 100, 99, 101, 4096, 50, "127.0.0.1:4501", ""},
           {2, net::Role::kUnknown, 0, 0, 0, 0, 0, 0, 0, "127.0.0.1:4502", "connection refused"}}},
      net::MemberListResult{
          {{1, net::MemberRole::kVoter, "p1", "c1"}, {4, net::MemberRole::kLearner, "p4", "c4"}}},
      net::Ok{},
      net::StreamEnd{},
      net::Error{base::Code::kNotLeader, "not the leader", net::LeaderHint{2, "127.0.0.1:4502"}},
      net::Error{base::Code::kInvalidArgument, "Too many checks", std::nullopt},
  };
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> u8(flatbuffers::FlatBufferBuilder& b,
                                                     std::string_view s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

base::BytesView view(flatbuffers::FlatBufferBuilder& b) {
  return {reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()};
}

}  // namespace

TEST_CASE("client codec: every request body round-trips with its fields") {
  uint64_t id = 1;
  for (const auto& body : every_request()) {
    net::Request request{id++ * 0x1000'0000'0001ull, body};
    CAPTURE(body.index());
    auto decoded = net::decode_request(net::encode_request(request));
    REQUIRE(decoded.is_ok());
    CHECK(*decoded == request);
  }
}

TEST_CASE("client codec: every response body round-trips with its fields") {
  uint64_t id = 1;
  for (const auto& body : every_response()) {
    net::Response response{id++, body};
    CAPTURE(body.index());
    auto decoded = net::decode_response(net::encode_response(response));
    REQUIRE(decoded.is_ok());
    CHECK(*decoded == response);
  }
}

TEST_CASE("client codec: requests and responses are not mistaken for each other's garbage") {
  CHECK_FALSE(net::decode_request("").is_ok());
  CHECK_FALSE(net::decode_response("\x01\x02\x03\x04 garbage garbage").is_ok());
  // Cutting only trailing padding leaves a valid buffer (the frame checksum catches that case);
  // any other cut must be rejected, never misread.
  net::Request request{5, net::Watch{{"k"}, std::nullopt}};
  base::Bytes good = net::encode_request(request);
  size_t rejected = 0;
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CAPTURE(cut);
    auto decoded = net::decode_request(base::BytesView(good).substr(0, cut));
    if (decoded.is_ok()) {
      CHECK(*decoded == request);
    } else {
      ++rejected;
    }
  }
  CHECK(rejected >= good.size() - 8);
}

TEST_CASE("client codec: unknown mutation types and value encodings are rejected") {
  namespace fb = raftkv::net::client;
  for (int type : {6, 7, 8, 10, 255}) {
    CAPTURE(type);
    flatbuffers::FlatBufferBuilder b;
    auto m = fb::CreateMutation(b, static_cast<fb::MutationType>(type), u8(b, "k"));
    auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.status().message().find("unknown mutation type") != std::string::npos);
  }
  flatbuffers::FlatBufferBuilder b;
  auto value = fb::CreateKvValue(b, static_cast<fb::ValueEncoding>(4));
  auto m = fb::CreateMutation(b, fb::MutationType::Set, u8(b, "k"), value);
  auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
  b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
  CHECK_FALSE(net::decode_request(view(b)).is_ok());
}

TEST_CASE(
    "client codec: inconsistent responses are rejected (ok without versionstamp, half "
    "watch entries, error code ok)") {
  namespace fb = raftkv::net::client;
  {
    flatbuffers::FlatBufferBuilder b;
    auto r = fb::CreateAtomicWriteResult(b, true, nullptr);
    b.Finish(fb::CreateResponse(b, 1, fb::ResponseBody::AtomicWriteResult, r.Union()));
    CHECK_FALSE(net::decode_response(view(b)).is_ok());
  }
  {
    flatbuffers::FlatBufferBuilder b;
    auto value = fb::CreateKvValue(b, fb::ValueEncoding::V8, u8(b, "v"));
    auto entry = fb::CreateWatchEntry(b, u8(b, "k"), value, nullptr);
    auto event = fb::CreateWatchEvent(b, b.CreateVector(std::vector{entry}));
    b.Finish(fb::CreateResponse(b, 1, fb::ResponseBody::WatchEvent, event.Union()));
    CHECK_FALSE(net::decode_response(view(b)).is_ok());
  }
  {
    flatbuffers::FlatBufferBuilder b;
    auto error = fb::CreateError(b, fb::ErrorCode::Ok, b.CreateString("fine?"));
    b.Finish(fb::CreateResponse(b, 1, fb::ResponseBody::Error, error.Union()));
    CHECK_FALSE(net::decode_response(view(b)).is_ok());
  }
}

TEST_CASE("client types: stream-opening requests and final responses are classified") {
  CHECK(net::opens_stream(net::Watch{}));
  CHECK(net::opens_stream(net::QueueListen{}));
  CHECK_FALSE(net::opens_stream(net::SnapshotRead{}));
  CHECK_FALSE(net::is_final(net::WatchEvent{}));
  CHECK_FALSE(net::is_final(net::QueueDelivery{}));
  CHECK(net::is_final(net::StreamEnd{}));
  CHECK(net::is_final(net::Error{}));
  CHECK(net::is_final(net::AtomicWriteResult{}));
}
