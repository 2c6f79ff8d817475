// Frames: the unit every raftkv connection (peer or client) carries.
//
//   u32 payload length (LE) | u64 xxHash3 of the payload (LE) | payload (a flatbuffer)
//
// The schemas of the payloads are net/peer.fbs and net/client.fbs. A receiver enforces a payload
// limit (16 MiB by default, configurable lower), rejecting an oversized frame from its header
// alone, before any of its body is buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace net {

constexpr size_t kFrameHeaderBytes = 12;
constexpr size_t kFramePayloadMaxBytes = 16u << 20;  // 16 MiB

// Appends one frame carrying `payload` to `out`. Precondition: payload.size() fits in u32.
void append_frame(base::Bytes& out, base::BytesView payload);
base::Bytes encode_frame(base::BytesView payload);

// Checks that a payload is a well-formed flatbuffer of the expected root type (runs the
// flatbuffers Verifier). See verify_peer_frame / verify_request / verify_response.
using PayloadVerifier = std::function<bool(base::BytesView payload)>;

// Splits a byte stream into verified frame payloads. Handles any split of the input across
// append() calls. After next() returns an error the stream is unusable: the decoder stays
// failed and the caller must close the connection. Not thread-safe (one per connection).
class FrameDecoder {
 public:
  // `verify` may be empty (no schema check, used by frame-level tests and benchmarks).
  explicit FrameDecoder(size_t payload_max_bytes = kFramePayloadMaxBytes,
                        PayloadVerifier verify = {});

  // Adds received bytes.
  void append(base::BytesView data);

  // The next complete payload; nullopt when more input is needed; an error (corruption) for an
  // oversized frame, a checksum mismatch or a payload the verifier rejects.
  base::Result<std::optional<base::Bytes>> next();

  // Bytes received but not yet returned as payloads.
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  base::Status fail(base::Status status);

  size_t payload_max_bytes_;
  PayloadVerifier verify_;
  base::Bytes buffer_;
  size_t consumed_ = 0;  // buffer_[0, consumed_) has been returned already
  base::Status failed_;
};

}  // namespace net
