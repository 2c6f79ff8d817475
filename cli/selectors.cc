#include "cli/selectors.h"

#include <algorithm>

#include "kvmodel/kv_limits.h"

namespace cli {
namespace {

bool strictly_extends(base::BytesView key, base::BytesView prefix) {
  return key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix;
}

base::Bytes with_byte(base::BytesView key, uint8_t byte) {
  base::Bytes out(key);
  out.push_back(static_cast<char>(byte));
  return out;
}

}  // namespace

base::Result<ListBounds> ListBounds::create(const Selector& selector) {
  ListBounds bounds;
  bounds.prefix_ = selector.prefix;
  bounds.start_ = selector.start;
  bounds.end_ = selector.end;
  if (selector.prefix) {
    if (selector.start && selector.end) {
      return base::invalid_argument(
          "Selector can not specify both 'start' and 'end' key when specifying 'prefix'");
    }
    if (selector.start && !strictly_extends(*selector.start, *selector.prefix)) {
      return base::invalid_argument("Start key is not in the keyspace defined by prefix");
    }
    if (selector.end && !strictly_extends(*selector.end, *selector.prefix)) {
      return base::invalid_argument("End key is not in the keyspace defined by prefix");
    }
    return bounds;
  }
  if (!selector.start || !selector.end) {
    return base::invalid_argument(
        "Selector must specify either 'prefix' or both 'start' and 'end' key");
  }
  if (*selector.start > *selector.end) {
    return base::invalid_argument("Start key is greater than end key");
  }
  return bounds;
}

base::Bytes ListBounds::range_start() const {
  if (start_) return *start_;
  return with_byte(*prefix_, 0x00);
}

base::Bytes ListBounds::range_end() const {
  if (end_) return *end_;
  return with_byte(*prefix_, 0xFF);
}

base::BytesView ListBounds::common_prefix() const {
  if (prefix_) return *prefix_;
  const base::Bytes& a = *start_;
  const base::Bytes& b = *end_;
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return base::BytesView(a).substr(0, n);
}

base::Result<std::string> ListBounds::encode_cursor(base::BytesView last_key) const {
  base::BytesView prefix = common_prefix();
  if (last_key.substr(0, prefix.size()) != prefix) {
    return base::invalid_argument("invalid boundary key: it is outside the selector");
  }
  return base::base64_encode(last_key.substr(prefix.size()), /*url=*/true);
}

base::Result<std::pair<base::Bytes, base::Bytes>> ListBounds::resume(std::string_view cursor,
                                                                     bool reverse) const {
  std::optional<base::Bytes> tail = base::base64_decode(cursor, /*url=*/true);
  if (!tail) return base::invalid_argument("invalid cursor '{}': not base64url", cursor);
  base::Bytes resumed(common_prefix());
  resumed += *tail;
  base::Bytes first;
  base::Bytes last;
  if (reverse) {
    first = range_start();
    last = std::move(resumed);
  } else {
    first = with_byte(resumed, 0x00);
    last = range_end();
  }
  // Deno checks only the explicit bounds (a prefix-only selector cannot be left: the cursor is
  // appended to the prefix).
  if ((start_ && first < *start_) || (end_ && last > *end_)) {
    return base::invalid_argument("cursor out of bounds");
  }
  return std::pair{std::move(first), std::move(last)};
}

// ------------------------------------------------------------------------------ ListPager

ListPager::ListPager(ListBounds bounds, const ListOptions& options, uint32_t batch_size)
    : bounds_(std::move(bounds)),
      limit_(options.limit),
      reverse_(options.reverse),
      batch_size_(batch_size) {
  if (!options.cursor.empty()) cursor_ = options.cursor;
}

base::Result<ListPager> ListPager::create(const Selector& selector, const ListOptions& options) {
  if (options.limit && *options.limit == 0) return base::invalid_argument("Limit must be positive");
  uint32_t batch = options.batch_size.value_or(options.limit.value_or(kListBatchDefault));
  if (batch == 0) return base::invalid_argument("Batch size must be positive");
  if (!options.batch_size) batch = std::min(batch, kListBatchDefaultMax);
  if (batch > kvmodel::kReadEntriesMax) {
    return base::invalid_argument("Too many entries (max {})", kvmodel::kReadEntriesMax);
  }
  base::Result<ListBounds> bounds = ListBounds::create(selector);
  if (!bounds.is_ok()) return bounds.status();
  ListPager pager(std::move(bounds).value(), options, batch);
  // Validate the initial cursor and key sizes now rather than at the first read.
  base::Result<kvmodel::ReadRange> first = pager.next_range();
  if (!first.is_ok()) return first.status();
  return pager;
}

base::Result<kvmodel::ReadRange> ListPager::next_range() const {
  ENSURE(!done_);
  kvmodel::ReadRange range;
  range.limit = batch_size_;
  range.reverse = reverse_;
  if (cursor_) {
    auto resumed = bounds_.resume(*cursor_, reverse_);
    if (!resumed.is_ok()) return resumed.status();
    range.start = std::move(resumed->first);
    range.end = std::move(resumed->second);
  } else {
    range.start = bounds_.range_start();
    range.end = bounds_.range_end();
  }
  if (range.start.size() > kvmodel::kReadKeyMaxBytes ||
      range.end.size() > kvmodel::kReadKeyMaxBytes) {
    return base::invalid_argument("Key too large for read (max {} bytes)",
                                  kvmodel::kReadKeyMaxBytes);
  }
  return range;
}

base::Result<std::vector<kvmodel::KvEntry>> ListPager::accept(std::vector<kvmodel::KvEntry> batch) {
  ENSURE(!done_);
  // The server's answer is input like any other: a broken or hostile server must not make the
  // listing loop or jump outside the selector.
  base::Result<kvmodel::ReadRange> range = next_range();
  if (!range.is_ok()) return range.status();
  if (batch.size() > batch_size_) {
    return base::Status(base::Code::kCorruption,
                        fmt::format("the server returned {} entries for a read limited to {}",
                                    batch.size(), batch_size_));
  }
  for (const kvmodel::KvEntry& entry : batch) {
    if (entry.key < range->start || entry.key >= range->end) {
      return base::Status(base::Code::kCorruption,
                          "the server returned a key outside the range it was asked for");
    }
  }
  if (batch.size() < batch_size_) done_ = true;
  if (limit_) {
    uint64_t room = *limit_ - yielded_;
    if (batch.size() >= room) {
      batch.resize(static_cast<size_t>(room));
      done_ = true;
    }
  }
  if (!batch.empty()) cursor_ = bounds_.encode_cursor(batch.back().key).value();
  yielded_ += batch.size();
  return batch;
}

}  // namespace cli
