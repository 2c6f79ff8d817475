// What the real-process tests (cluster, services, power_loss) share to talk to a ProcessCluster
// through the client library.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/client.h"
#include "kvmodel/key.h"
#include "net/client_types.h"

namespace testing_support {

// A tuple key of one or two strings.
inline base::Bytes key(const std::string& a, const std::string& b = "") {
  std::vector<kvmodel::KeyPart> parts{kvmodel::KeyPart::string(a)};
  if (!b.empty()) parts.push_back(kvmodel::KeyPart::string(b));
  return kvmodel::encode_key(parts).value();
}

inline kvmodel::Value bytes_value(const std::string& v) {
  return kvmodel::Value{kvmodel::ValueEncoding::kBytes, v};
}

// Client options that outlast a leader election on a loaded machine.
inline cli::ClientOptions patient() {
  cli::ClientOptions o;
  o.deadline = std::chrono::seconds(30);
  return o;
}

}  // namespace testing_support
