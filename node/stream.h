// How the node answers: a Reply per response, and the Origin that names a request's stream.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

#include "net/client_types.h"

namespace node {

// Called once per response; for streams (watch, queue listen) once per pushed item, the last
// call carrying a final body (net::is_final). Invoked on the node thread; must not block.
using Reply = std::function<void(net::ResponseBody)>;

// Who sent a request. A stream is named by (connection, request id of its opening request), so
// Cancel{stream_id} from the same connection ends it, and a closed connection's streams end.
// connection 0 is "no connection" (in-process callers); they may still name their streams.
struct Origin {
  uint64_t connection = 0;
  uint64_t request_id = 0;
  friend auto operator<=>(const Origin&, const Origin&) = default;
};

}  // namespace node
