// The node's snapshot header and conf-change context formats (snapshot_payload.h,
// member_context.h), including what older versions wrote.
#include <doctest/doctest.h>

#include "node/member_context.h"
#include "node/snapshot_payload.h"

TEST_CASE("snapshot payload: members' peer and client addresses round-trip before the state") {
  std::map<raft::NodeId, std::string> peers{{1, "127.0.0.1:4601"}, {2, "127.0.0.1:4602"}};
  std::map<raft::NodeId, std::string> clients{{1, "127.0.0.1:4501"}, {3, "127.0.0.1:4503"}};
  base::Bytes payload = node::encode_snapshot_header(peers, clients) + "STATE";
  auto decoded = node::decode_snapshot_payload(payload);
  REQUIRE(decoded.is_ok());
  CHECK(decoded->peer_addrs == peers);
  CHECK(decoded->client_addrs == clients);
  CHECK(decoded->state == "STATE");
}

TEST_CASE("snapshot payload: a version 1 header (peer addresses only) still decodes") {
  base::Bytes v1("RKVNODE\x01", 8);
  base::put_varint(v1, 1);
  base::put_varint(v1, 7);
  base::put_length_prefixed(v1, "10.0.0.7:4601");
  v1 += "S";
  auto decoded = node::decode_snapshot_payload(v1);
  REQUIRE(decoded.is_ok());
  CHECK(decoded->peer_addrs.at(7) == "10.0.0.7:4601");
  CHECK(decoded->client_addrs.empty());
  CHECK(decoded->state == "S");
}

TEST_CASE("snapshot payload: bad magic and truncated member records are corruption") {
  CHECK(node::decode_snapshot_payload("NOTANODE").status().code() == base::Code::kCorruption);
  base::Bytes header = node::encode_snapshot_header({{1, "127.0.0.1:4601"}}, {});
  for (size_t cut = 0; cut + 1 < header.size(); ++cut) {
    auto decoded = node::decode_snapshot_payload(header.substr(0, cut));
    CHECK_FALSE(decoded.is_ok());
  }
}

TEST_CASE("member context: both addresses, or an older peer-address-only context") {
  node::MemberAddresses both{"127.0.0.1:4604", "127.0.0.1:4504"};
  CHECK(node::encode_member_context(both) == "127.0.0.1:4604 127.0.0.1:4504");
  CHECK(node::decode_member_context(node::encode_member_context(both)) == both);
  node::MemberAddresses peer_only{"127.0.0.1:4604", ""};
  CHECK(node::encode_member_context(peer_only) == "127.0.0.1:4604");
  CHECK(node::decode_member_context("127.0.0.1:4604") == peer_only);
}
