#include "raft/log_unstable.h"

#include "base/check.h"

namespace raft {

std::optional<Index> LogUnstable::maybe_first_index() const {
  if (snapshot_) return snapshot_->meta.index + 1;
  return std::nullopt;
}

std::optional<Index> LogUnstable::maybe_last_index() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->meta.index;
  return std::nullopt;
}

std::optional<Term> LogUnstable::maybe_term(Index index) const {
  if (index < offset_) {
    if (snapshot_ && snapshot_->meta.index == index) return snapshot_->meta.term;
    return std::nullopt;
  }
  const auto last = maybe_last_index();
  if (!last || index > *last) return std::nullopt;
  return entries_[index - offset_].term;
}

void LogUnstable::truncate_and_append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const Index after = entries.front().index;
  if (planted_bug_ == PlantedBug::kUnstableOverwriteInPlace && after >= offset_ &&
      after < offset_ + entries_.size()) {
    // Planted bug 7: overwrite in place, keeping the stale entries after the new ones.
    for (const Entry& entry : entries) {
      const Index at = entry.index - offset_;
      if (at < entries_.size()) {
        entries_[at] = entry;
      } else {
        entries_.push_back(entry);
      }
    }
    return;
  }
  if (after == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  } else if (after <= offset_) {
    // The new entries replace the whole tail (and a suffix of the stored log).
    ENSURE_MSG(!snapshot_ || after > snapshot_->meta.index, "append at {} below snapshot {}", after,
               snapshot_->meta.index);
    offset_ = after;
    entries_ = entries;
  } else {
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  }
}

std::vector<Entry> LogUnstable::slice(Index lo, Index hi) const {
  ENSURE_MSG(offset_ <= lo && lo <= hi && hi <= offset_ + entries_.size(),
             "unstable slice [{}, {}) outside [{}, {})", lo, hi, offset_,
             offset_ + entries_.size());
  return std::vector<Entry>(entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset_),
                            entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset_));
}

void LogUnstable::stable_to(Index index, Term term) {
  const auto held_term = maybe_term(index);
  if (!held_term || *held_term != term || index < offset_) return;
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(index + 1 - offset_));
  offset_ = index + 1;
}

void LogUnstable::stable_snapshot_to(Index index) {
  if (snapshot_ && snapshot_->meta.index == index) snapshot_.reset();
}

void LogUnstable::restore(const Snapshot& snapshot) {
  offset_ = snapshot.meta.index + 1;
  entries_.clear();
  snapshot_ = snapshot;
}

}  // namespace raft
