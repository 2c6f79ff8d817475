#include "net/client_codec.h"

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include "net/client_generated.h"

namespace {

using kvmodel::MutationKind;
using kvmodel::Value;
using kvmodel::ValueEncoding;

kvmodel::Versionstamp vs(uint8_t last) { return kvmodel::Versionstamp::of(9, last); }

std::vector<net::RequestBody> every_request() {
  kvmodel::AtomicWrite write;
  write.client_id = 0xC11E47;
  write.sequence = 17;
  write.checks = {{"k1", vs(1)}, {"k2", std::nullopt}};
  write.mutations = {{MutationKind::kSet, "a", Value{ValueEncoding::kV8, "\xff\x0f\x22"},
                      1700000000000, "", "", false},
                     {MutationKind::kDelete, "b", {}, 0, "", "", false},
                     {MutationKind::kSum, "c", Value{ValueEncoding::kLe64, std::string(8, '\1')}, 0,
                      "min", "max", true},
                     {MutationKind::kMin, "d", Value{ValueEncoding::kLe64, std::string(8, '\2')}, 0,
                      "", "", false},
                     {MutationKind::kMax, "e", Value{ValueEncoding::kBytes, ""}, 0, "", "", false},
                     {MutationKind::kSetSuffixVersionstampedKey, "f",
                      Value{ValueEncoding::kBytes, "x"}, UINT64_MAX, "", "", false}};
  write.enqueues = {{"payload", 250, {"dead1", "dead2"}, {100, 1000}}, {"p2", 0, {}, {}}};
  return {kvmodel::SnapshotRead{{{"a", "b", 10, true}, {std::string("\0", 1), "\xff", 1000, false}},
                                kvmodel::Consistency::kEventual},
          write,
          kvmodel::AtomicWrite{},
          net::Watch{{"k1", "k2"}, vs(3)},
          net::Watch{{"only"}, std::nullopt},
          net::QueueListen{"worker-1", 8, 30000},
          kvmodel::QueueAck{"id-1", vs(77)},
          kvmodel::QueueNack{"id-2", vs(78), 0},
          kvmodel::QueueExtend{"id-3", kvmodel::Versionstamp::of(uint64_t{1} << 60, 79), 0, 5000},
          net::StatusRequest{true},
          net::MemberList{},
          net::MemberAdd{4, "127.0.0.1:4604", "127.0.0.1:4504"},
          net::MemberRemove{2},
          net::LeaderTransfer{3},
          net::Cancel{12}};
}

std::vector<net::ResponseBody> every_response() {
  kvmodel::KvEntry e1{"k1", {ValueEncoding::kV8, "v1"}, vs(1)};
  kvmodel::KvEntry e2{"k2", {ValueEncoding::kBytes, ""}, vs(2)};
  return {
      net::SnapshotReadResult{{{e1, e2}, {}}, true},
      net::AtomicWriteResult{true, vs(5), {}},
      net::AtomicWriteResult{false, std::nullopt, {0, 2}},
      net::WatchEvent{{{"k1", e1}, {"gone", std::nullopt}}},
      net::QueueDelivery{"msg-1", vs(99), "payload", 3},
      net::StatusResult{
          {{1, raft::Role::kLeader, false, 5, 1, 100, 99, 101, 4096, 50, "127.0.0.1:4501", ""},
           {3, raft::Role::kCandidate, false, 6, 0, 90, 90, 91, 0, 0, "127.0.0.1:4503", ""},
           {4, raft::Role::kFollower, true, 5, 1, 100, 99, 101, 0, 0, "127.0.0.1:4504", ""},
           {2, raft::Role::kFollower, false, 0, 0, 0, 0, 0, 0, 0, "127.0.0.1:4502",
            "connection refused"}}},
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
  for (int type : {0, 6, 7, 8, 10, 255}) {
    CAPTURE(type);
    flatbuffers::FlatBufferBuilder b;
    auto m = fb::CreateMutation(b, static_cast<fb::MutationType>(type), u8(b, "k"));
    auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.status().message().find("unknown mutation type") != std::string::npos);
  }
  for (int encoding : {0, 4}) {
    CAPTURE(encoding);
    flatbuffers::FlatBufferBuilder b;
    auto value = fb::CreateKvValue(b, static_cast<fb::ValueEncoding>(encoding));
    auto m = fb::CreateMutation(b, fb::MutationType::Set, u8(b, "k"), value);
    auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.status().message().find("unknown value encoding") != std::string::npos);
  }
}

TEST_CASE(
    "client codec: a set without a value and a queue ack without a lease token are rejected") {
  namespace fb = raftkv::net::client;
  {
    flatbuffers::FlatBufferBuilder b;
    auto m = fb::CreateMutation(b, fb::MutationType::Sum, u8(b, "k"));
    auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.status().message() == "client frame: missing value");
  }
  {
    // A delete needs none; one sent anyway is ignored.
    flatbuffers::FlatBufferBuilder b;
    auto value = fb::CreateKvValue(b, fb::ValueEncoding::V8, u8(b, "v"));
    auto m = fb::CreateMutation(b, fb::MutationType::Delete, u8(b, "k"), value);
    auto w = fb::CreateAtomicWrite(b, 1, 1, 0, b.CreateVector(std::vector{m}));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::AtomicWrite, w.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE(decoded.is_ok());
    const auto& mutation = std::get<kvmodel::AtomicWrite>(decoded->body).mutations.at(0);
    CHECK(mutation.kind == MutationKind::kDelete);
    CHECK(mutation.value == Value{});
  }
  {
    flatbuffers::FlatBufferBuilder b;
    auto ack = fb::CreateQueueAck(b, u8(b, "123456789012"));
    b.Finish(fb::CreateRequest(b, 1, fb::RequestBody::QueueAck, ack.Union()));
    auto decoded = net::decode_request(view(b));
    REQUIRE_FALSE(decoded.is_ok());
    CHECK(decoded.status().message() == "client frame: queue ack without a lease token");
  }
}

TEST_CASE(
    "client codec: inconsistent responses are rejected (ok without versionstamp, half "
    "watch entries, role unknown without an error, error code ok)") {
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
    auto node = fb::CreateNodeStatus(b, 1, fb::Role::Unknown);
    auto status = fb::CreateStatusResult(b, b.CreateVector(std::vector{node}));
    b.Finish(fb::CreateResponse(b, 1, fb::ResponseBody::StatusResult, status.Union()));
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
  CHECK_FALSE(net::opens_stream(kvmodel::SnapshotRead{}));
  CHECK_FALSE(net::is_final(net::WatchEvent{}));
  CHECK_FALSE(net::is_final(net::QueueDelivery{}));
  CHECK(net::is_final(net::StreamEnd{}));
  CHECK(net::is_final(net::Error{}));
  CHECK(net::is_final(net::AtomicWriteResult{}));
}

TEST_CASE("client codec: status roles keep their wire numbers; a learner is a flag in NodeStatus") {
  namespace fb = raftkv::net::client;
  auto wire_role = [](const net::NodeStatus& n) {
    base::Bytes payload = net::encode_response(net::Response{1, net::StatusResult{{n}}});
    const auto* r = flatbuffers::GetRoot<fb::Response>(payload.data());
    return static_cast<int>(r->body_as_StatusResult()->nodes()->Get(0)->role());
  };
  net::NodeStatus n;
  CHECK(wire_role(n) == 1);
  n.role = raft::Role::kPreCandidate;
  CHECK(wire_role(n) == 2);
  n.role = raft::Role::kCandidate;
  CHECK(wire_role(n) == 3);
  n.role = raft::Role::kLeader;
  CHECK(wire_role(n) == 4);
  CHECK(net::role_name(n) == "leader");
  n.role = raft::Role::kFollower;
  n.learner = true;
  CHECK(wire_role(n) == 5);
  CHECK(net::role_name(n) == "learner");
  n.error = "connection refused";
  CHECK(wire_role(n) == 0);
}
