#include "cli/fake_cluster.h"

namespace cli::testing {
namespace {

class FakeChannel final : public Channel {
 public:
  FakeChannel(std::shared_ptr<FakeCluster> cluster, size_t node)
      : cluster_(std::move(cluster)), node_(node) {}

  base::Result<net::ResponseBody> call(net::RequestBody body,
                                       std::chrono::milliseconds /*timeout*/) override {
    if (cluster_->is_down(node_)) open_ = false;
    if (!open_) return base::Status(base::Code::kUnavailable, "connection closed");
    return cluster_->handle(node_, body);
  }
  uint64_t open_stream(net::RequestBody body, StreamCallback on_frame) override {
    if (cluster_->is_down(node_) || !open_) {
      open_ = false;
      on_frame(base::Status(base::Code::kUnavailable, "connection closed"));
      return 0;
    }
    return cluster_->open(node_, body, std::move(on_frame));
  }
  void cancel_stream(uint64_t stream_id) override { cluster_->cancel(stream_id); }
  bool is_open() const override { return open_ && !cluster_->is_down(node_); }

 private:
  std::shared_ptr<FakeCluster> cluster_;
  size_t node_;
  bool open_ = true;
};

class FakeConnector final : public Connector {
 public:
  explicit FakeConnector(std::shared_ptr<FakeCluster> cluster) : cluster_(std::move(cluster)) {}
  base::Result<std::shared_ptr<Channel>> connect(const std::string& address) override {
    for (size_t node = 0; node < cluster_->size(); ++node) {
      if (cluster_->address(node) != address) continue;
      if (cluster_->is_down(node)) {
        return base::Status(base::Code::kUnavailable, "connection refused");
      }
      return std::shared_ptr<Channel>(std::make_shared<FakeChannel>(cluster_, node));
    }
    return base::Status(base::Code::kUnavailable, "unknown host");
  }

 private:
  std::shared_ptr<FakeCluster> cluster_;
};

kvmodel::Versionstamp stamp(uint64_t version) { return kvmodel::Versionstamp::of(version, 0); }

}  // namespace

FakeCluster::FakeCluster(size_t nodes) : nodes_(nodes) {
  for (uint64_t id = 1; id <= nodes; ++id) members_.insert(id);
}

std::unique_ptr<Connector> FakeCluster::connector() {
  return std::make_unique<FakeConnector>(shared_from_this());
}

void FakeCluster::set_leader(size_t node) {
  std::lock_guard lock(mu_);
  leader_ = node;
}
void FakeCluster::set_down(size_t node, bool down) {
  std::lock_guard lock(mu_);
  if (down) {
    down_.insert(node);
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (it->second.node != node) {
        ++it;
        continue;
      }
      it->second.callback(base::Status(base::Code::kUnavailable, "connection closed"));
      it = streams_.erase(it);
    }
  } else {
    down_.erase(node);
  }
}
void FakeCluster::lose_next_answers(int n) {
  std::lock_guard lock(mu_);
  lose_answers_ = n;
}
void FakeCluster::give_hints(bool hints) {
  std::lock_guard lock(mu_);
  hints_ = hints;
}
bool FakeCluster::is_down(size_t node) {
  std::lock_guard lock(mu_);
  return down_.count(node) != 0;
}
void FakeCluster::deliver(net::QueueDelivery delivery) {
  std::lock_guard lock(mu_);
  for (auto& [id, stream] : streams_) {
    if (stream.node == leader_ && std::holds_alternative<net::QueueListen>(stream.body)) {
      stream.callback(net::ResponseBody(delivery));
    }
  }
}
void FakeCluster::break_streams() {
  std::lock_guard lock(mu_);
  for (auto& [id, stream] : streams_) {
    stream.callback(base::Status(base::Code::kUnavailable, "connection closed"));
  }
  streams_.clear();
}

int FakeCluster::applied_writes() {
  std::lock_guard lock(mu_);
  return applied_;
}
std::vector<kvmodel::AtomicWrite> FakeCluster::writes_received() {
  std::lock_guard lock(mu_);
  return writes_;
}
std::vector<net::RequestBody> FakeCluster::queue_requests() {
  std::lock_guard lock(mu_);
  return queue_requests_;
}
std::vector<net::Watch> FakeCluster::watches_opened() {
  std::lock_guard lock(mu_);
  return watches_;
}
size_t FakeCluster::listeners() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& [id, stream] : streams_) n += std::holds_alternative<net::QueueListen>(stream.body);
  return n;
}

net::ResponseBody FakeCluster::not_leader_locked() const {
  net::Error error{base::Code::kNotLeader, "not the leader", std::nullopt};
  if (hints_) error.leader_hint = net::LeaderHint{leader_ + 1, address(leader_)};
  return error;
}

net::AtomicWriteResult FakeCluster::apply_locked(const kvmodel::AtomicWrite& write) {
  auto session = sessions_.find({write.client_id, write.sequence});
  if (session != sessions_.end()) return session->second;  // exactly once
  net::AtomicWriteResult result;
  for (uint32_t i = 0; i < write.checks.size(); ++i) {
    const kvmodel::Check& check = write.checks[i];
    auto it = data_.find(check.key);
    std::optional<kvmodel::Versionstamp> current;
    if (it != data_.end()) current = it->second.versionstamp;
    if (current != check.versionstamp) result.failed_checks.push_back(i);
  }
  if (result.failed_checks.empty()) {
    ++applied_;
    kvmodel::Versionstamp vs = stamp(++version_);
    for (const kvmodel::Mutation& m : write.mutations) {
      if (m.kind == kvmodel::MutationKind::kDelete) {
        data_.erase(m.key);
      } else {
        data_[m.key] = kvmodel::KvEntry{m.key, m.value, vs};
      }
    }
    result.ok = true;
    result.versionstamp = vs;
    for (auto& [id, stream] : streams_) {
      if (auto* watch = std::get_if<net::Watch>(&stream.body); watch && stream.node == leader_) {
        stream.callback(net::ResponseBody(watch_event_locked(*watch)));
      }
    }
  }
  sessions_[{write.client_id, write.sequence}] = result;
  return result;
}

net::WatchEvent FakeCluster::watch_event_locked(const net::Watch& watch) const {
  net::WatchEvent event;
  for (const base::Bytes& key : watch.keys) {
    auto it = data_.find(key);
    event.entries.push_back(net::WatchEntry{
        key, it == data_.end() ? std::nullopt : std::optional<kvmodel::KvEntry>(it->second)});
  }
  return event;
}

base::Result<net::ResponseBody> FakeCluster::handle(size_t node, const net::RequestBody& body) {
  std::lock_guard lock(mu_);
  if (std::holds_alternative<net::StatusRequest>(body)) {
    net::NodeStatus status;
    status.id = node + 1;
    status.role = node == leader_ ? raft::Role::kLeader : raft::Role::kFollower;
    status.term = 7;
    status.leader = leader_ + 1;
    status.commit = status.applied = status.last_index = version_;
    status.address = address(node);
    return net::ResponseBody(net::StatusResult{{status}});
  }
  if (node != leader_) return not_leader_locked();
  if (auto* read = std::get_if<kvmodel::SnapshotRead>(&body)) {
    net::SnapshotReadResult result;
    for (const kvmodel::ReadRange& r : read->ranges) {
      std::vector<kvmodel::KvEntry> entries;
      for (auto it = data_.lower_bound(r.start); it != data_.end() && it->first < r.end; ++it) {
        entries.push_back(it->second);
      }
      if (r.reverse) std::reverse(entries.begin(), entries.end());
      if (entries.size() > r.limit) entries.resize(r.limit);
      result.ranges.push_back(std::move(entries));
    }
    return net::ResponseBody(result);
  }
  if (auto* write = std::get_if<kvmodel::AtomicWrite>(&body)) {
    writes_.push_back(*write);
    for (const kvmodel::Mutation& m : write->mutations) {
      if (m.key == "refuse") {
        return net::ResponseBody(
            net::Error{base::Code::kInvalidArgument, "refused by the node", std::nullopt});
      }
    }
    net::AtomicWriteResult result = apply_locked(*write);
    if (lose_answers_ > 0) {
      --lose_answers_;
      return base::Status(base::Code::kUnavailable, "connection reset");
    }
    return net::ResponseBody(result);
  }
  if (std::holds_alternative<net::MemberList>(body) ||
      std::holds_alternative<net::MemberRemove>(body)) {
    if (auto* remove = std::get_if<net::MemberRemove>(&body)) {
      if (members_.erase(remove->id) == 0) {
        return net::ResponseBody(net::Error{base::Code::kNotFound, "not a member", std::nullopt});
      }
      if (lose_answers_ > 0) {
        --lose_answers_;
        return base::Status(base::Code::kUnavailable, "connection reset");
      }
    }
    net::MemberListResult list;
    for (uint64_t id : members_) list.members.push_back(net::Member{id});
    return net::ResponseBody(list);
  }
  if (std::holds_alternative<kvmodel::QueueAck>(body) ||
      std::holds_alternative<kvmodel::QueueNack>(body) ||
      std::holds_alternative<kvmodel::QueueExtend>(body)) {
    queue_requests_.push_back(body);
    return net::ResponseBody(net::Ok{});
  }
  return net::ResponseBody(net::Ok{});
}

uint64_t FakeCluster::open(size_t node, const net::RequestBody& body,
                           Channel::StreamCallback callback) {
  std::lock_guard lock(mu_);
  if (node != leader_) {
    callback(not_leader_locked());
    return 0;
  }
  uint64_t id = next_stream_++;
  if (auto* watch = std::get_if<net::Watch>(&body)) {
    watches_.push_back(*watch);
    callback(net::ResponseBody(watch_event_locked(*watch)));
  }
  streams_[id] = Stream{node, body, std::move(callback)};
  return id;
}

void FakeCluster::cancel(uint64_t stream_id) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  it->second.callback(net::ResponseBody(net::StreamEnd{}));
  streams_.erase(it);
}

}  // namespace cli::testing
