#include "node/member_context.h"

namespace node {

std::string encode_member_context(const MemberAddresses& addresses) {
  if (addresses.client_addr.empty()) return addresses.peer_addr;
  return addresses.peer_addr + " " + addresses.client_addr;
}

MemberAddresses decode_member_context(std::string_view context) {
  auto space = context.find(' ');
  if (space == std::string_view::npos) return MemberAddresses{std::string(context), ""};
  return MemberAddresses{std::string(context.substr(0, space)),
                         std::string(context.substr(space + 1))};
}

}  // namespace node
