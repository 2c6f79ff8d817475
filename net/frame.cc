#include "net/frame.h"

#include <limits>

#include "base/check.h"
#include "base/hash.h"

namespace net {

void append_frame(base::Bytes& out, base::BytesView payload) {
  ENSURE(payload.size() <= std::numeric_limits<uint32_t>::max());
  out.reserve(out.size() + kFrameHeaderBytes + payload.size());
  base::put_u32_le(out, static_cast<uint32_t>(payload.size()));
  base::put_u64_le(out, base::xxh3(payload));
  out.append(payload);
}

base::Bytes encode_frame(base::BytesView payload) {
  base::Bytes out;
  append_frame(out, payload);
  return out;
}

FrameDecoder::FrameDecoder(size_t payload_max_bytes, PayloadVerifier verify)
    : payload_max_bytes_(payload_max_bytes), verify_(std::move(verify)) {}

void FrameDecoder::append(base::BytesView data) {
  // Drop returned payloads first so the buffer does not grow without bound on a long stream.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data);
}

base::Status FrameDecoder::fail(base::Status status) {
  failed_ = status;
  buffer_.clear();
  consumed_ = 0;
  return status;
}

base::Result<std::optional<base::Bytes>> FrameDecoder::next() {
  if (!failed_.is_ok()) return failed_;
  const size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return std::optional<base::Bytes>();
  const char* header = buffer_.data() + consumed_;
  const uint32_t length = base::get_u32_le(header);
  // Checked before waiting for the body: an attacker must not make us buffer 4 GiB.
  if (length > payload_max_bytes_) {
    return fail(base::corruption("frame of {} bytes exceeds the limit of {} bytes", length,
                                 payload_max_bytes_));
  }
  if (available - kFrameHeaderBytes < length) return std::optional<base::Bytes>();
  const uint64_t checksum = base::get_u64_le(header + 4);
  base::BytesView payload(header + kFrameHeaderBytes, length);
  if (base::xxh3(payload) != checksum) {
    return fail(base::corruption("frame checksum mismatch ({} byte payload)", length));
  }
  if (verify_ && !verify_(payload)) {
    return fail(base::corruption("frame payload ({} bytes) is not a valid flatbuffer", length));
  }
  base::Bytes out(payload);
  consumed_ += kFrameHeaderBytes + length;
  return std::optional<base::Bytes>(std::move(out));
}

}  // namespace net
