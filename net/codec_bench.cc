// Frames per second through the whole client-side codec path for a typical small write:
// encode_request + frame, then FrameDecoder (checksum + Verifier) + decode_request.
// Usage: net_codec_bench [frames]. Prints one line of numbers.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "net/client_codec.h"
#include "net/frame.h"

int main(int argc, char** argv) {
  const long frames = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  // ~100 bytes of user data: a 20-byte key, a 70-byte V8 value, one check on the same key.
  kvmodel::AtomicWrite write;
  write.client_id = 0x1234'5678'9abc'def0;
  write.checks.push_back({std::string(20, 'k'), std::nullopt});
  write.mutations.push_back({kvmodel::MutationKind::kSet, std::string(20, 'k'),
                             kvmodel::Value{kvmodel::ValueEncoding::kV8, std::string(70, 'v')}, 0,
                             "", "", false});
  net::FrameDecoder decoder(net::kFramePayloadMaxBytes, net::verify_request);
  size_t frame_bytes = 0;
  uint64_t checksum = 0;  // consumes results so the optimizer cannot drop the work
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  for (long i = 0; i < frames; ++i) {
    write.sequence = static_cast<uint64_t>(i);
    base::Bytes frame = net::encode_frame(net::encode_request({static_cast<uint64_t>(i), write}));
    frame_bytes = frame.size();
    decoder.append(frame);
    auto payload = decoder.next();
    if (!payload.is_ok() || !payload->has_value()) return 1;
    auto request = net::decode_request(**payload);
    if (!request.is_ok()) return 1;
    checksum += std::get<kvmodel::AtomicWrite>(request->body).sequence;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // CPU time too: on a shared machine wall time includes waiting for a core.
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::printf(
      "net codec: %ld AtomicWrite frames (%zu bytes each) encoded+decoded: "
      "%.0f frames/s wall (%.3f s), %.0f frames/s per CPU-second, %.2f us CPU/frame "
      "(checksum %llu)\n",
      frames, frame_bytes, frames / seconds, seconds, frames / cpu_seconds,
      cpu_seconds * 1e6 / frames, static_cast<unsigned long long>(checksum % 1000));
  return 0;
}
