#include "raft/ready_driver.h"

#include <utility>

namespace raft {

bool promises_durability(const Message& m) {
  return (m.type == MessageType::kVoteResponse || m.type == MessageType::kAppendResponse) &&
         !m.reject;
}

ReadyDriver::ReadyDriver(RawNode& node, ReadyIo& io, bool leader_sends_early)
    : node_(node), io_(io), leader_sends_early_(leader_sends_early) {}

bool ReadyDriver::take() {
  if (ready_ || !node_.has_ready()) return false;
  ready_ = node_.ready();
  stage_ = Stage::kSnapshot;
  // The role after ready(): this Ready's inputs may have deposed a leader (then its messages
  // include acknowledgements of the new leader's entries) or made a follower leader. And not
  // in a Ready that changes the term or vote: every message of it belongs to that term.
  const bool early =
      leader_sends_early_ && node_.role() == Role::kLeader && !ready_->term_or_vote_changed;
  held_.clear();
  for (Message& m : ready_->messages) {
    if (early && !promises_durability(m)) {
      io_.send(std::move(m));
    } else {
      held_.push_back(std::move(m));
    }
  }
  ready_->messages.clear();  // advance() does not read them
  return true;
}

// Resumes at the first stage not yet done, so a retry after an error redoes nothing.
base::Status ReadyDriver::persist() {
  const Ready& rd = *ready_;
  if (stage_ == Stage::kSnapshot) {
    if (rd.snapshot) RETURN_IF_ERROR(io_.persist_snapshot(*rd.snapshot));
    stage_ = Stage::kEntries;
  }
  if (stage_ == Stage::kEntries) {
    if (!rd.entries.empty()) RETURN_IF_ERROR(io_.persist_entries(rd.entries));
    stage_ = Stage::kHardState;
  }
  if (stage_ == Stage::kHardState) {
    if (rd.hard_state) RETURN_IF_ERROR(io_.persist_hard_state(*rd.hard_state));
    stage_ = Stage::kSync;
  }
  if (stage_ == Stage::kSync) {
    if (rd.must_sync) RETURN_IF_ERROR(io_.sync());
    stage_ = Stage::kDone;
  }
  return base::Status::ok();
}

base::Status ReadyDriver::finish() {
  if (!ready_) return base::Status::ok();
  RETURN_IF_ERROR(persist());
  std::vector<Message> to_send = std::move(held_);
  held_.clear();
  for (Message& m : to_send) io_.send(std::move(m));
  if (ready_->snapshot) io_.apply_snapshot(*ready_->snapshot);
  for (const Entry& entry : ready_->committed_entries) io_.apply_entry(entry);
  if (!ready_->read_states.empty()) io_.deliver_read_states(std::move(ready_->read_states));
  Ready done = std::move(*ready_);
  ready_.reset();
  node_.advance(done);
  return base::Status::ok();
}

base::Status ReadyDriver::handle_all() {
  for (;;) {
    if (!ready_ && !take()) return base::Status::ok();
    RETURN_IF_ERROR(finish());
  }
}

void ReadyDriver::drop() {
  ready_.reset();
  held_.clear();
  stage_ = Stage::kDone;
}

}  // namespace raft
