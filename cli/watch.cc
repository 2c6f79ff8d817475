#include "cli/watch.h"

#include <algorithm>

#include "kvmodel/write_validation.h"

namespace cli {
namespace {

bool older(const kvmodel::Versionstamp& a, const kvmodel::Versionstamp& b) { return a < b; }

}  // namespace

base::Result<WatchStream> Client::watch(std::vector<base::Bytes> keys) {
  RETURN_IF_ERROR(kvmodel::validate_watch_keys(keys));
  WatchStream stream(this, std::move(keys));
  RETURN_IF_ERROR(stream.reopen());
  return stream;
}

WatchStream::WatchStream(WatchStream&& other) noexcept
    : client_(other.client_),
      keys_(std::move(other.keys_)),
      frames_(std::move(other.frames_)),
      open_(std::move(other.open_)),
      is_open_(std::exchange(other.is_open_, false)),
      failures_(other.failures_),
      last_(std::move(other.last_)) {}

WatchStream::~WatchStream() { cancel(); }

void WatchStream::cancel() {
  if (is_open_ && open_.channel) open_.channel->cancel_stream(open_.stream_id);
  is_open_ = false;
}

base::Status WatchStream::reopen() {
  cancel();
  net::Watch request;
  request.keys = keys_;
  if (last_) {
    for (const auto& entry : *last_) {
      if (entry &&
          (!request.min_versionstamp || older(*request.min_versionstamp, entry->versionstamp))) {
        request.min_versionstamp = entry->versionstamp;
      }
    }
  }
  frames_ = std::make_shared<StreamFrames>();
  base::Result<Client::OpenStream> opened =
      client_->open_stream(request, StreamFrames::feeder(frames_));
  if (!opened.is_ok()) return opened.status();
  open_ = *opened;
  is_open_ = true;
  return base::Status::ok();
}

base::Result<std::optional<WatchStream::Snapshot>> WatchStream::accept(net::WatchEvent event) {
  if (event.entries.size() != keys_.size()) {
    return base::Status(base::Code::kCorruption, "a watch event does not cover the watched keys");
  }
  Snapshot snapshot;
  for (size_t i = 0; i < keys_.size(); ++i) {
    net::WatchEntry& e = event.entries[i];
    if (e.key != keys_[i] || (e.entry && e.entry->key != keys_[i])) {
      return base::Status(base::Code::kCorruption, "a watch event names a key not watched");
    }
    snapshot.push_back(std::move(e.entry));
  }
  if (last_) {
    bool same = true;
    for (size_t i = 0; i < keys_.size(); ++i) {
      const auto& before = (*last_)[i];
      const auto& now = snapshot[i];
      if (before && now && older(now->versionstamp, before->versionstamp)) {
        return std::optional<Snapshot>();  // from an older state: never go back
      }
      same = same && before.has_value() == now.has_value() &&
             (!now || now->versionstamp == before->versionstamp);
    }
    if (same) return std::optional<Snapshot>();
  }
  last_ = snapshot;
  return std::optional<Snapshot>(std::move(snapshot));
}

base::Result<WatchStream::Snapshot> WatchStream::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!is_open_) {
      if (failures_ > 0) client_->backoff(failures_ - 1);
      ++failures_;
      base::Status reopened = reopen();
      if (!reopened.is_ok()) return reopened;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return base::Status(base::Code::kTimeout, "no change in time");
    std::optional<StreamFrames::Frame> frame = frames_->pop(left);
    if (!frame) return base::Status(base::Code::kTimeout, "no change in time");
    if (!frame->is_ok()) {  // the connection broke: reopen, perhaps elsewhere
      is_open_ = false;
      continue;
    }
    net::ResponseBody& body = frame->value();
    if (auto* event = std::get_if<net::WatchEvent>(&body)) {
      base::Result<std::optional<Snapshot>> snapshot = accept(std::move(*event));
      if (!snapshot.is_ok()) return snapshot.status();
      failures_ = 0;
      if (*snapshot) return std::move(**snapshot);
      continue;
    }
    is_open_ = false;  // any other frame ends this stream
    if (auto* error = std::get_if<net::Error>(&body)) {
      bool retry = error->code == base::Code::kNotLeader ||
                   error->code == base::Code::kUnavailable || error->code == base::Code::kTimeout;
      if (!retry) return error->to_status();
      client_->note_error(*error);
      if (error->code != base::Code::kNotLeader || !error->leader_hint) {
        client_->skip_endpoint(open_.address);
      }
    }
    // StreamEnd: the node ended the stream (e.g. it stopped leading); reopen.
  }
}

}  // namespace cli
