// List selectors, cursors and batching, computed client-side exactly as Deno does (spec §1.5,
// §1.6, §4.1). The server only ever sees byte ranges [start, end) with a limit and a direction.
//
// All keys here are tuple-encoded (kvmodel::encode_key). Worked example (spec §1.6): listing
// {prefix: ["a"]} and stopping after ["a","b"] gives the cursor "AmIA" (= base64url of 02 62 00,
// the last key without the prefix 02 61 00); resuming forward starts at prefix ‖ 02 62 00 ‖ 00.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "net/client_types.h"

namespace cli {

// What the caller asked for: {prefix}, {prefix, start}, {prefix, end} or {start, end}.
struct Selector {
  std::optional<base::Bytes> prefix;
  std::optional<base::Bytes> start;
  std::optional<base::Bytes> end;
};

// A validated selector (Deno's RawSelector). Invariant: range_start() <= range_end().
class ListBounds {
 public:
  // Errors (kInvalidArgument) use Deno's messages: "Start key is not in the keyspace defined by
  // prefix", "End key is not in the keyspace defined by prefix", "Start key is greater than end
  // key", and for other shapes "Selector must specify either 'prefix' or both 'start' and 'end'
  // key" / "Selector can not specify both 'start' and 'end' key when specifying 'prefix'".
  static base::Result<ListBounds> create(const Selector& selector);

  // The whole range the selector covers: {prefix} is [P‖00, P‖FF).
  base::Bytes range_start() const;
  base::Bytes range_end() const;
  // P for prefix selectors, else the longest common byte prefix of S and E.
  base::BytesView common_prefix() const;

  // base64url (with '=' padding) of `last_key` minus the common prefix. Fails when the key does
  // not start with the common prefix (it cannot have come from this selector).
  base::Result<std::string> encode_cursor(base::BytesView last_key) const;
  // The range still to read after `cursor`: forward [prefix‖cursor‖00, end), reverse
  // [start, prefix‖cursor). "invalid cursor" for bad base64, "cursor out of bounds" when the
  // resumed range leaves the selector's explicit start or end.
  base::Result<std::pair<base::Bytes, base::Bytes>> resume(std::string_view cursor,
                                                           bool reverse) const;

 private:
  std::optional<base::Bytes> prefix_;
  std::optional<base::Bytes> start_;  // explicit start key, if given
  std::optional<base::Bytes> end_;    // explicit end key, if given
};

struct ListOptions {
  std::optional<uint32_t> limit;  // total entries; must be >= 1 when given
  bool reverse = false;
  std::string cursor;                  // empty: start from the beginning
  std::optional<uint32_t> batch_size;  // entries per read; default min(limit or 100, 500)
};

inline constexpr uint32_t kListBatchDefault = 100;
inline constexpr uint32_t kListBatchDefaultMax = 500;  // applies only to the default
// A batch is at most kvmodel::kReadEntriesMax entries ("Too many entries (max 1000)").

// Drives a listing batch by batch: next_range() -> one snapshot read -> accept(entries) -> ...
// Mirrors Deno's KvListIterator: each batch resumes from the cursor of the last entry yielded;
// a batch shorter than batch_size (or reaching the limit) is the last one. Batches are not one
// snapshot (spec §4.1). Plain value, single-threaded.
class ListPager {
 public:
  static base::Result<ListPager> create(const Selector& selector, const ListOptions& options);

  bool done() const { return done_; }
  uint32_t batch_size() const { return batch_size_; }
  // The next range to read (limit = batch_size); ENSUREs !done(). Fails when a bound exceeds
  // the read key limit ("Key too large for read (max 2049 bytes)").
  base::Result<kvmodel::ReadRange> next_range() const;
  // Takes the entries the last next_range() returned (in iteration order) and returns those to
  // yield, trimmed to the limit. Updates done() and cursor(). kCorruption when the batch is
  // longer than asked or holds a key outside the range (the pager state is then unchanged).
  base::Result<std::vector<kvmodel::KvEntry>> accept(std::vector<kvmodel::KvEntry> batch);
  // The cursor after the last yielded entry (or the initial cursor when none was yielded yet;
  // nullopt when there is neither).
  std::optional<std::string> cursor() const { return cursor_; }
  uint64_t yielded() const { return yielded_; }

 private:
  ListPager(ListBounds bounds, const ListOptions& options, uint32_t batch_size);

  ListBounds bounds_;
  std::optional<uint32_t> limit_;
  bool reverse_ = false;
  uint32_t batch_size_ = kListBatchDefault;
  std::optional<std::string> cursor_;
  uint64_t yielded_ = 0;
  bool done_ = false;
};

}  // namespace cli
