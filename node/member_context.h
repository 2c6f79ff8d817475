// The context a raftkv configuration change carries (raft::ConfChange::context): the member's
// addresses, so every replica (and every node that later loads a snapshot) knows where to send
// Raft messages and which client address to give in leader hints.
//
//   "PEER_ADDR"              (older entries: the peer address only)
//   "PEER_ADDR CLIENT_ADDR"  (one space; addresses never contain spaces)
// The bootstrap entries of the initial voters carry an empty context: their addresses come
// from --peers / --client-peers.
#pragma once

#include <string>
#include <string_view>

namespace node {

struct MemberAddresses {
  std::string peer_addr;
  std::string client_addr;  // empty when unknown
  friend bool operator==(const MemberAddresses&, const MemberAddresses&) = default;
};

std::string encode_member_context(const MemberAddresses& addresses);
MemberAddresses decode_member_context(std::string_view context);

}  // namespace node
