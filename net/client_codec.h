// Encoding of client-protocol payloads (net/client.fbs) to and from the plain values of
// net/client_types.h. Payloads are flatbuffers without the frame header. Pure functions:
// thread-safe. Decoders verify first and reject unknown enum values, missing bodies and
// versionstamps or values that break the schema's rules, with a corruption Status.
#pragma once

#include "base/bytes.h"
#include "base/status.h"
#include "net/client_types.h"

namespace net {

base::Bytes encode_request(const Request& request);
base::Bytes encode_response(const Response& response);

bool verify_request(base::BytesView payload);
bool verify_response(base::BytesView payload);

base::Result<Request> decode_request(base::BytesView payload);
base::Result<Response> decode_response(base::BytesView payload);

}  // namespace net
