#include "raft/memory_storage.h"

#include "base/check.h"

namespace raft {

MemoryStorage::MemoryStorage() : entries_(1) {
  snapshot_.data = std::make_shared<const std::string>();
}

Index MemoryStorage::first_index() const { return offset() + 1; }

Index MemoryStorage::last_index() const { return offset() + entries_.size() - 1; }

Term MemoryStorage::term(Index index) const {
  ENSURE_MSG(index >= offset() && index <= last_index(), "term({}) outside [{}, {}]", index,
             offset(), last_index());
  return entries_[index - offset()].term;
}

std::vector<Entry> MemoryStorage::entries(Index lo, Index hi, uint64_t max_bytes) const {
  ENSURE_MSG(first_index() <= lo && lo < hi && hi <= last_index() + 1,
             "entries({}, {}) outside [{}, {}]", lo, hi, first_index(), last_index() + 1);
  std::vector<Entry> out;
  uint64_t total_bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& entry = entries_[i - offset()];
    total_bytes += entry.data.size();
    if (!out.empty() && total_bytes > max_bytes) break;
    out.push_back(entry);
  }
  return out;
}

void MemoryStorage::append(const std::vector<Entry>& new_entries) {
  if (new_entries.empty()) return;
  for (size_t i = 1; i < new_entries.size(); ++i) {
    ENSURE(new_entries[i].index == new_entries[i - 1].index + 1);
  }
  ENSURE_MSG(new_entries.front().index <= last_index() + 1, "gap: appending {} after {}",
             new_entries.front().index, last_index());
  if (new_entries.back().index <= offset()) return;  // all covered by the snapshot
  // Skip what the snapshot already covers, then overwrite from the first new index.
  size_t skip = 0;
  while (new_entries[skip].index <= offset()) ++skip;
  const Index first_new = new_entries[skip].index;
  entries_.resize(first_new - offset());
  entries_.insert(entries_.end(), new_entries.begin() + static_cast<std::ptrdiff_t>(skip),
                  new_entries.end());
}

base::Status MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index <= snapshot_.meta.index) {
    return base::Status(base::Code::kInvalidArgument,
                        fmt::format("snapshot at index {} is not newer than the held one at {}",
                                    snapshot.meta.index, snapshot_.meta.index));
  }
  snapshot_ = snapshot;
  if (!snapshot_.data) snapshot_.data = std::make_shared<const std::string>();
  entries_.assign(1, Entry{.index = snapshot.meta.index, .term = snapshot.meta.term});
  return base::Status::ok();
}

base::Status MemoryStorage::create_snapshot(Index index, const ConfState& conf,
                                            std::shared_ptr<const std::string> data) {
  if (index <= snapshot_.meta.index) {
    return base::invalid_argument("snapshot index {} is not newer than the held one at {}", index,
                                  snapshot_.meta.index);
  }
  if (index > last_index()) {
    return base::invalid_argument("snapshot index {} is beyond the last index {}", index,
                                  last_index());
  }
  snapshot_.meta = SnapshotMeta{.index = index, .term = term(index), .conf = conf};
  snapshot_.data = data ? std::move(data) : std::make_shared<const std::string>();
  return base::Status::ok();
}

base::Status MemoryStorage::compact(Index index) {
  if (index <= offset()) {
    return base::invalid_argument("index {} is already compacted (first index {})", index,
                                  first_index());
  }
  if (index > snapshot_.meta.index) {
    return base::invalid_argument("cannot compact to {}: the latest snapshot is at {}", index,
                                  snapshot_.meta.index);
  }
  const Entry dummy{.index = index, .term = term(index)};
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(index - offset()));
  entries_.front() = dummy;
  return base::Status::ok();
}

void MemoryStorage::lose_entries_after(Index last) {
  ENSURE_MSG(last >= offset() && last <= last_index(), "lose_entries_after({}) outside [{}, {}]",
             last, offset(), last_index());
  entries_.resize(last - offset() + 1);
}

}  // namespace raft
