#include "net/frame.h"

#include <doctest/doctest.h>

#include "base/rng.h"

namespace {

base::Bytes random_bytes(base::Rng& rng, size_t n) {
  base::Bytes out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng.uniform(256));
  return out;
}

}  // namespace

TEST_CASE("frame: payloads round-trip through the decoder fed one byte at a time") {
  base::Rng rng(7);
  std::vector<base::Bytes> payloads = {"", "x", random_bytes(rng, 1000), random_bytes(rng, 70000)};
  base::Bytes stream;
  for (const auto& p : payloads) net::append_frame(stream, p);
  CHECK(stream.size() == 4 * net::kFrameHeaderBytes + 71001);

  net::FrameDecoder decoder;
  std::vector<base::Bytes> out;
  for (char c : stream) {
    decoder.append(base::BytesView(&c, 1));
    for (;;) {
      auto next = decoder.next();
      REQUIRE(next.is_ok());
      if (!next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  CHECK(out == payloads);
  CHECK(decoder.buffered_bytes() == 0);
}

TEST_CASE("frame: random splits of a long stream yield every payload exactly once") {
  base::Rng rng(11);
  std::vector<base::Bytes> payloads;
  base::Bytes stream;
  for (int i = 0; i < 200; ++i) {
    payloads.push_back(random_bytes(rng, rng.uniform(3000)));
    net::append_frame(stream, payloads.back());
  }
  net::FrameDecoder decoder;
  std::vector<base::Bytes> out;
  for (size_t pos = 0; pos < stream.size();) {
    size_t n = std::min<size_t>(stream.size() - pos, rng.range(1, 5000));
    decoder.append(base::BytesView(stream).substr(pos, n));
    pos += n;
    while (true) {
      auto next = decoder.next();
      REQUIRE(next.is_ok());
      if (!next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  CHECK(out == payloads);
}

TEST_CASE("frame: an oversized frame is rejected from its header, before the body arrives") {
  net::FrameDecoder decoder(/*payload_max_bytes=*/1024);
  base::Bytes header;
  base::put_u32_le(header, 1025);
  base::put_u64_le(header, 0);
  decoder.append(header);  // only the header: no body bytes at all
  auto next = decoder.next();
  REQUIRE_FALSE(next.is_ok());
  CHECK(next.status().code() == base::Code::kCorruption);
  CHECK(next.status().message().find("exceeds the limit") != std::string::npos);
  // The decoder stays failed even if valid frames follow.
  decoder.append(net::encode_frame("ok"));
  CHECK_FALSE(decoder.next().is_ok());
}

TEST_CASE("frame: a frame at exactly the limit is accepted") {
  net::FrameDecoder decoder(/*payload_max_bytes=*/1024);
  decoder.append(net::encode_frame(base::Bytes(1024, 'a')));
  auto next = decoder.next();
  REQUIRE(next.is_ok());
  REQUIRE(next->has_value());
  CHECK((*next)->size() == 1024);
}

TEST_CASE("frame: a flipped payload bit fails the checksum") {
  base::Bytes frame = net::encode_frame("hello, raft");
  frame[net::kFrameHeaderBytes + 3] ^= 0x10;
  net::FrameDecoder decoder;
  decoder.append(frame);
  auto next = decoder.next();
  REQUIRE_FALSE(next.is_ok());
  CHECK(next.status().message().find("checksum") != std::string::npos);
}

TEST_CASE("frame: a payload the verifier rejects is an error; one it accepts passes") {
  net::FrameDecoder decoder(net::kFramePayloadMaxBytes,
                            [](base::BytesView p) { return p.starts_with("good"); });
  decoder.append(net::encode_frame("good payload"));
  decoder.append(net::encode_frame("bad payload"));
  auto first = decoder.next();
  REQUIRE(first.is_ok());
  CHECK(**first == "good payload");
  auto second = decoder.next();
  REQUIRE_FALSE(second.is_ok());
  CHECK(second.status().message().find("not a valid flatbuffer") != std::string::npos);
}

TEST_CASE("frame: a truncated frame is simply incomplete, never an error or a payload") {
  base::Bytes frame = net::encode_frame("0123456789");
  net::FrameDecoder decoder;
  decoder.append(base::BytesView(frame).substr(0, frame.size() - 1));
  auto next = decoder.next();
  REQUIRE(next.is_ok());
  CHECK_FALSE(next->has_value());
  CHECK(decoder.buffered_bytes() == frame.size() - 1);
}
