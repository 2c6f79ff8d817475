#include "node/watch_hub.h"

#include <fmt/format.h>

#include "base/check.h"
#include "kvmodel/write_validation.h"

namespace node {

void WatchHub::subscribe(Origin origin, net::Watch watch, Reply reply) {
  if (base::Status valid = kvmodel::validate_watch_keys(watch.keys); !valid.is_ok()) {
    return reply(net::Error::of(valid));
  }
  // A new leader that has not yet applied its first entry accepts the stream and sends once
  // it serves; a follower sends the client to the leader.
  bool any_node = false;
#ifdef RAFTKV_TEST_HOOKS
  any_node = planted_stale_watch;
#endif
  if (!host_.is_leader() && !any_node) return reply(host_.not_leader_error());
  if (streams_.size() >= kStreamsMax) {
    return reply(
        net::Error{base::Code::kUnavailable, "too many watch streams on this node", std::nullopt});
  }
  if (origin.connection != 0 || origin.request_id != 0) {
    if (by_origin_.count(origin)) {
      return reply(net::Error{base::Code::kInvalidArgument, "a stream with this request id is open",
                              std::nullopt});
    }
  }
  const uint64_t id = next_stream_id_++;
  Stream s;
  s.origin = origin;
  s.keys = std::move(watch.keys);
  s.min_versionstamp = watch.min_versionstamp;
  s.reply = std::move(reply);
  s.last_sent.resize(s.keys.size());
  for (const base::Bytes& key : s.keys) by_key_[key].insert(id);
  if (origin.connection != 0 || origin.request_id != 0) by_origin_[origin] = id;
  streams_.emplace(id, std::move(s));
  due_.insert(id);
  if (any_node) {
    streams_.at(id).confirmed = true;  // planted bug: no read barrier either
    flush();
    return;
  }
  host_.read_barrier([this, id] { on_confirmed(id); },
                     [this, id](net::Error error) { fail(id, std::move(error)); });
}

void WatchHub::on_confirmed(uint64_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;  // cancelled, closed or ended meanwhile
  it->second.confirmed = true;
  due_.insert(stream_id);
  flush();
}

void WatchHub::fail(uint64_t stream_id, net::Error error) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  it->second.reply(std::move(error));
  remove(stream_id);
}

bool WatchHub::cancel(Origin stream) {
  auto it = by_origin_.find(stream);
  if (it == by_origin_.end()) return false;
  const uint64_t id = it->second;
  streams_.at(id).reply(net::StreamEnd{});
  remove(id);
  return true;
}

void WatchHub::close_connection(uint64_t connection) {
  std::vector<uint64_t> ids;
  for (auto it = by_origin_.lower_bound(Origin{connection, 0});
       it != by_origin_.end() && it->first.connection == connection; ++it)
    ids.push_back(it->second);
  for (uint64_t id : ids) remove(id);
}

void WatchHub::on_applied(const kvstate::CommandResult& result) {
  if (streams_.empty()) return;
  for (const base::Bytes& key : result.changed_keys) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    due_.insert(it->second.begin(), it->second.end());
  }
}

bool WatchHub::may_send(const Stream& stream) const {
#ifdef RAFTKV_TEST_HOOKS
  if (planted_stale_watch) return true;
#endif
  if (!host_.serving_as_leader() || !stream.confirmed) return false;
  return !stream.min_versionstamp || host_.applied_index() >= stream.min_versionstamp->raft_index();
}

void WatchHub::flush() {
  for (auto it = due_.begin(); it != due_.end();) {
    auto s = streams_.find(*it);
    if (s == streams_.end()) {
      it = due_.erase(it);
    } else if (may_send(s->second)) {
      send(s->second);
      it = due_.erase(it);
    } else {
      ++it;  // waits for leadership or for applied to reach min_versionstamp
    }
  }
}

// One consistent array: every key is read between the same two applies.
void WatchHub::send(Stream& stream) {
  net::WatchEvent event;
  std::vector<std::optional<kvmodel::Versionstamp>> stamps(stream.keys.size());
  for (size_t i = 0; i < stream.keys.size(); ++i) {
    const base::Bytes& key = stream.keys[i];
    net::WatchEntry out{key, std::nullopt};
    if (const kvstate::Entry* e = host_.state().get(key)) {
      out.entry = kvmodel::KvEntry{key, e->value, e->versionstamp};
      stamps[i] = e->versionstamp;
    }
    event.entries.push_back(std::move(out));
  }
  // Deleting a missing key is a "change" that changes nothing: send only real differences.
  if (stream.sent_initial && stamps == stream.last_sent) return;
  stream.sent_initial = true;
  stream.last_sent = std::move(stamps);
  stream.reply(std::move(event));
}

void WatchHub::end_all(const net::Error& error) {
  for (auto& [id, s] : streams_) s.reply(error);
  streams_.clear();
  by_origin_.clear();
  by_key_.clear();
  due_.clear();
}

void WatchHub::remove(uint64_t stream_id) {
  auto it = streams_.find(stream_id);
  ENSURE(it != streams_.end());
  for (const base::Bytes& key : it->second.keys) {
    auto k = by_key_.find(key);
    if (k == by_key_.end()) continue;
    k->second.erase(stream_id);
    if (k->second.empty()) by_key_.erase(k);
  }
  by_origin_.erase(it->second.origin);
  due_.erase(stream_id);
  streams_.erase(it);
}

}  // namespace node
