#include "raft/raft_log.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace raft {

RaftLog::RaftLog(const LogStorage& storage)
    : storage_(storage), unstable_(storage.last_index() + 1) {
  applied_ = storage.first_index() - 1;
  committed_ = applied_;
}

Index RaftLog::first_index() const {
  if (auto index = unstable_.maybe_first_index()) return *index;
  return storage_.first_index();
}

Index RaftLog::last_index() const {
  if (auto index = unstable_.maybe_last_index()) return *index;
  return storage_.last_index();
}

std::optional<Term> RaftLog::term(Index index) const {
  if (auto term = unstable_.maybe_term(index)) return term;
  if (unstable_.snapshot()) return std::nullopt;  // nothing of storage is valid any more
  if (index >= unstable_.offset()) return std::nullopt;
  if (index + 1 < storage_.first_index() || index > storage_.last_index()) return std::nullopt;
  return storage_.term(index);
}

Term RaftLog::last_term() const {
  auto term_at_last = term(last_index());
  ENSURE(term_at_last.has_value());
  return *term_at_last;
}

bool RaftLog::match_term(Index index, Term term_expected) const {
  auto held = term(index);
  return held && *held == term_expected;
}

bool RaftLog::is_up_to_date(Index other_last_index, Term other_last_term) const {
  const Term our_last_term = last_term();
  return other_last_term > our_last_term ||
         (other_last_term == our_last_term && other_last_index >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term, Index leader_commit,
                                           const std::vector<Entry>& entries) {
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  const Index conflict = find_conflict(entries);
  if (conflict != 0) {
    // Committed entries never conflict (Log Matching + Leader Completeness).
    ENSURE_MSG(conflict > committed_, "conflict at {} <= commit {}", conflict, committed_);
    append(std::vector<Entry>(
        entries.begin() + static_cast<std::ptrdiff_t>(conflict - prev_index - 1), entries.end()));
  }
  const bool planted = planted_bug_ == PlantedBug::kFollowerCommitToLastIndex;
  commit_to(std::min(leader_commit, planted ? last_index() : last_new));
  return last_new;
}

void RaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  ENSURE_MSG(entries.front().index > committed_, "append at {} over commit {}",
             entries.front().index, committed_);
  unstable_.truncate_and_append(entries);
}

Index RaftLog::find_conflict(const std::vector<Entry>& entries) const {
  for (const Entry& entry : entries) {
    if (!match_term(entry.index, entry.term)) return entry.index;
  }
  return 0;
}

std::pair<Index, Term> RaftLog::find_conflict_by_term(Index index, Term term_limit) const {
  for (;; --index) {
    auto held = term(index);
    if (!held) return {index, 0};  // compacted: the caller falls back to a snapshot
    if (*held <= term_limit || index == 0) return {index, *held};
  }
}

std::optional<std::vector<Entry>> RaftLog::entries_from(Index lo, uint64_t max_bytes) const {
  if (lo > last_index()) return std::vector<Entry>{};
  if (lo < first_index()) return std::nullopt;
  return slice(lo, last_index() + 1, max_bytes);
}

std::vector<Entry> RaftLog::slice(Index lo, Index hi, uint64_t max_bytes) const {
  ENSURE_MSG(first_index() <= lo && lo <= hi && hi <= last_index() + 1,
             "slice [{}, {}) outside [{}, {}]", lo, hi, first_index(), last_index() + 1);
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (lo < unstable_.offset()) {
    out = storage_.entries(lo, std::min(hi, unstable_.offset()), max_bytes);
    if (out.size() < std::min(hi, unstable_.offset()) - lo) return out;  // byte limit reached
  }
  uint64_t total_bytes = 0;
  for (const Entry& entry : out) total_bytes += entry.data.size();
  const Index from = std::max(lo, unstable_.offset());
  for (Index i = from; i < hi; ++i) {
    const Entry& entry = unstable_.entries()[i - unstable_.offset()];
    total_bytes += entry.data.size();
    if (!out.empty() && total_bytes > max_bytes) break;
    out.push_back(entry);
  }
  return out;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;  // commit never regresses
  ENSURE_MSG(index <= last_index(), "commit {} beyond last index {}", index, last_index());
  committed_ = index;
}

void RaftLog::applied_to(Index index) {
  ENSURE_MSG(index <= committed_ && index >= applied_, "applied {} outside [{}, {}]", index,
             applied_, committed_);
  applied_ = index;
}

void RaftLog::restore(const Snapshot& snapshot) {
  ENSURE(snapshot.meta.index > committed_);
  unstable_.restore(snapshot);
  committed_ = snapshot.meta.index;
}

Index RaftLog::stable_last_index() const {
  if (unstable_.snapshot()) return unstable_.snapshot()->meta.index;
  if (!unstable_.entries().empty()) return unstable_.offset() - 1;
  return storage_.last_index();
}

std::vector<Entry> RaftLog::next_committed_entries() const {
  if (!has_next_committed_entries()) return {};
  const Index hi = std::min(committed_, stable_last_index()) + 1;
  return slice(applied_ + 1, hi, std::numeric_limits<uint64_t>::max());
}

bool RaftLog::has_next_committed_entries() const {
  if (unstable_.snapshot()) return false;  // the snapshot is applied first
  return std::min(committed_, stable_last_index()) > applied_;
}

Snapshot RaftLog::snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_.snapshot();
}

bool RaftLog::has_unapplied_conf_change() const {
  if (committed_ <= applied_ || applied_ + 1 < first_index()) return false;
  for (const Entry& entry :
       slice(applied_ + 1, committed_ + 1, std::numeric_limits<uint64_t>::max())) {
    if (entry.type == EntryType::kConfChange) return true;
  }
  return false;
}

}  // namespace raft
