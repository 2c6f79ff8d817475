#include "kvstate/read.h"

#include "kvmodel/write_validation.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

base::Result<std::vector<std::vector<KvEntry>>> read_ranges(const BTree<Entry>& data,
                                                            const std::vector<ReadRange>& ranges) {
  RETURN_IF_ERROR(validate_read_ranges(ranges));
  std::vector<std::vector<KvEntry>> out(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    const ReadRange& r = ranges[i];
    if (r.start >= r.end) continue;  // empty range (spec §1.5: S == E is empty)
    data.scan(r.start, std::optional<std::string_view>(r.end), r.reverse,
              [&](std::string_view key, const Entry& e) {
                out[i].push_back(KvEntry{base::Bytes(key), e.value, e.versionstamp});
                return out[i].size() < r.limit;
              });
  }
  return out;
}

}  // namespace kvstate
