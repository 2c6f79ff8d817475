#include "wal/snapshot_store.h"

#include <xxhash.h>

#include <algorithm>

#include "base/bytes.h"
#include "wal/format.h"

namespace wal {

namespace {

using format::kSnapshotTrailerBytes;
constexpr size_t kReadChunkBytes = 1 << 20;

// Streaming XXH3-64 (the same value as base::xxh3 over the concatenated bytes).
class StreamingHash {
 public:
  StreamingHash() : state_(XXH3_createState()) {
    ENSURE(state_ != nullptr);
    XXH3_64bits_reset(state_);
  }
  ~StreamingHash() { XXH3_freeState(state_); }
  StreamingHash(const StreamingHash&) = delete;
  StreamingHash& operator=(const StreamingHash&) = delete;
  void update(std::string_view bytes) { XXH3_64bits_update(state_, bytes.data(), bytes.size()); }
  uint64_t digest() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

base::Bytes encode_header(const raft::SnapshotMeta& meta) {
  base::Bytes body;
  base::put_u64_le(body, meta.index);
  base::put_u64_le(body, meta.term);
  base::put_u32_le(body, static_cast<uint32_t>(meta.conf.voters.size()));
  for (raft::NodeId id : meta.conf.voters) base::put_u64_le(body, id);
  base::put_u32_le(body, static_cast<uint32_t>(meta.conf.learners.size()));
  for (raft::NodeId id : meta.conf.learners) base::put_u64_le(body, id);
  base::Bytes header(format::kSnapshotMagic);
  base::put_u32_le(header, static_cast<uint32_t>(body.size()));
  return header + body;
}

bool read_ids(base::Reader& reader, std::vector<raft::NodeId>& ids) {
  uint32_t count = 0;
  if (!reader.u32_le(count) || count > reader.remaining() / 8) return false;
  ids.resize(count);
  for (raft::NodeId& id : ids) reader.u64_le(id);
  return reader.ok();
}

// Parses the header at the start of `bytes`; returns its size, or nullopt.
std::optional<size_t> decode_header(std::string_view bytes, raft::SnapshotMeta& meta) {
  const size_t magic_bytes = format::kSnapshotMagic.size();
  if (bytes.size() < magic_bytes + 4 || bytes.substr(0, magic_bytes) != format::kSnapshotMagic) {
    return std::nullopt;
  }
  const uint32_t body_bytes = base::get_u32_le(bytes.data() + magic_bytes);
  if (bytes.size() - magic_bytes - 4 < body_bytes) return std::nullopt;
  base::Reader reader(bytes.substr(magic_bytes + 4, body_bytes));
  reader.u64_le(meta.index);
  reader.u64_le(meta.term);
  if (!reader.ok() || !read_ids(reader, meta.conf.voters) ||
      !read_ids(reader, meta.conf.learners) || !reader.empty()) {
    return std::nullopt;
  }
  return magic_bytes + 4 + body_bytes;
}

std::optional<std::pair<raft::Index, raft::Term>> parse_snapshot_name(std::string_view name) {
  if (!name.starts_with(format::kSnapshotPrefix) || !name.ends_with(format::kSnapshotSuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(format::kSnapshotPrefix.size());
  name.remove_suffix(format::kSnapshotSuffix.size());
  if (name.size() != 33 || name[16] != '-') return std::nullopt;
  const auto index = base::from_hex(name.substr(0, 16));
  const auto term = base::from_hex(name.substr(17, 16));
  if (!index || !term) return std::nullopt;
  return std::make_pair(base::get_u64_be(index->data()), base::get_u64_be(term->data()));
}

void must(const base::Status& status, std::string_view what) {
  must_io(status, fmt::format("snapshot {}", what));
}

struct Verified {
  raft::SnapshotMeta meta;
  uint64_t state_offset = 0;
  uint64_t state_bytes = 0;
  uint64_t state_checksum = 0;
};

// Reads the whole file once and checks its structure and both checksums.
base::Result<Verified> verify_file(const File& file) {
  const base::Result<uint64_t> size = file.size();
  if (!size.is_ok()) return size.status();
  const uint64_t file_bytes = *size;
  std::string header;
  RETURN_IF_ERROR(
      file.pread(0, static_cast<size_t>(std::min<uint64_t>(file_bytes, 1 << 16)), header));
  Verified verified;
  const std::optional<size_t> header_bytes = decode_header(header, verified.meta);
  if (!header_bytes || file_bytes < *header_bytes + kSnapshotTrailerBytes) {
    return base::corruption("snapshot {}: bad header at offset 0", file.path());
  }
  const uint64_t trailer_offset = file_bytes - kSnapshotTrailerBytes;
  std::string trailer;
  RETURN_IF_ERROR(file.pread(trailer_offset, kSnapshotTrailerBytes, trailer));
  verified.state_offset = *header_bytes;
  verified.state_bytes = base::get_u64_le(trailer.data());
  verified.state_checksum = base::get_u64_le(trailer.data() + 8);
  if (verified.state_offset + verified.state_bytes != trailer_offset) {
    return base::corruption("snapshot {}: bad state length at offset {}", file.path(),
                            trailer_offset);
  }
  StreamingHash file_hash;
  StreamingHash state_hash;
  std::string chunk;
  for (uint64_t offset = 0; offset < trailer_offset + 16; offset += chunk.size()) {
    const uint64_t want = std::min<uint64_t>(kReadChunkBytes, trailer_offset + 16 - offset);
    RETURN_IF_ERROR(file.pread(offset, static_cast<size_t>(want), chunk));
    if (chunk.size() != want)
      return base::corruption("snapshot {}: short read at offset {}", file.path(), offset);
    file_hash.update(chunk);
    // The part of this chunk inside [state_offset, trailer_offset) feeds the state hash.
    const uint64_t lo = std::max(offset, verified.state_offset);
    const uint64_t hi = std::min(offset + want, trailer_offset);
    if (lo < hi) state_hash.update(std::string_view(chunk).substr(lo - offset, hi - lo));
  }
  if (file_hash.digest() != base::get_u64_le(trailer.data() + 16)) {
    return base::corruption("snapshot {}: file checksum mismatch (trailer at offset {})",
                            file.path(), trailer_offset);
  }
  if (state_hash.digest() != verified.state_checksum) {
    return base::corruption("snapshot {}: state checksum mismatch (trailer at offset {})",
                            file.path(), trailer_offset);
  }
  return verified;
}

}  // namespace

std::string snapshot_file_name(raft::Index index, raft::Term term) {
  return fmt::format("{}{:016x}-{:016x}{}", format::kSnapshotPrefix, index, term,
                     format::kSnapshotSuffix);
}

// ---------------------------------------------------------------------------------------------
// Writer

struct SnapshotWriter::Impl {
  SnapshotStore* store = nullptr;
  raft::SnapshotMeta meta;
  std::string tmp_path;
  std::string final_path;
  std::unique_ptr<File> file;
  uint64_t offset = 0;
  uint64_t state_bytes = 0;
  StreamingHash file_hash;
  StreamingHash state_hash;
  base::Status error;  // the first failed write (a full disk): finish() returns it
  bool finished = false;

  void write(std::string_view bytes) {
    write_unhashed(bytes);
    file_hash.update(bytes);
  }
  void write_unhashed(std::string_view bytes) {
    if (!error.is_ok()) return;
    const base::Status written = file->pwrite(offset, bytes);
    if (!written.is_ok()) {
      error = space_or_fatal(written, store->dir_, fmt::format("writing snapshot {}", tmp_path));
    }
    offset += bytes.size();
  }
};

SnapshotWriter::SnapshotWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SnapshotWriter::~SnapshotWriter() {
  if (!impl_->finished) {
    impl_->file.reset();
    // Best effort: a leftover tmp file is removed at the next startup anyway.
    (void)impl_->store->env_.remove(impl_->tmp_path);
  }
  impl_->store->writer_open_ = false;
}

void SnapshotWriter::append(std::string_view chunk) {
  ENSURE(!impl_->finished);
  impl_->write(chunk);
  impl_->state_hash.update(chunk);
  impl_->state_bytes += chunk.size();
}

base::Status SnapshotWriter::finish(std::optional<uint64_t> expected_state_checksum) {
  Impl& w = *impl_;
  ENSURE(!w.finished);
  const uint64_t state_checksum = w.state_hash.digest();
  if (expected_state_checksum && *expected_state_checksum != state_checksum) {
    return base::corruption("snapshot {}: received state checksum {:016x}, sender said {:016x}",
                            w.tmp_path, state_checksum, *expected_state_checksum);
  }
  base::Bytes trailer;
  base::put_u64_le(trailer, w.state_bytes);
  base::put_u64_le(trailer, state_checksum);
  w.write(trailer);
  base::Bytes file_checksum;
  base::put_u64_le(file_checksum, w.file_hash.digest());
  w.write_unhashed(file_checksum);
  if (!w.error.is_ok()) return w.error;  // the destructor removes the tmp file
  must(w.file->sync_data(), "fdatasync");
  w.file.reset();
  const base::Status renamed = w.store->env_.rename(w.tmp_path, w.final_path);
  if (!renamed.is_ok()) return space_or_fatal(renamed, w.store->dir_, "renaming a snapshot");
  must(w.store->env_.sync_dir(w.store->dir_), "fsync directory");
  w.finished = true;
  w.store->install(w.meta, state_checksum, w.final_path);
  return base::Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Reader

struct SnapshotReader::Impl {
  std::unique_ptr<File> file;
  Verified verified;
  uint64_t done_bytes = 0;
  StreamingHash state_hash;
};

SnapshotReader::SnapshotReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotReader::~SnapshotReader() = default;
const raft::SnapshotMeta& SnapshotReader::meta() const { return impl_->verified.meta; }
uint64_t SnapshotReader::state_bytes() const { return impl_->verified.state_bytes; }
uint64_t SnapshotReader::state_checksum() const { return impl_->verified.state_checksum; }

base::Result<std::string> SnapshotReader::read(size_t max_bytes) {
  Impl& r = *impl_;
  ENSURE(max_bytes > 0);
  const uint64_t left = r.verified.state_bytes - r.done_bytes;
  if (left == 0) return std::string();
  const auto want = static_cast<size_t>(std::min<uint64_t>(left, max_bytes));
  std::string chunk;
  RETURN_IF_ERROR(r.file->pread(r.verified.state_offset + r.done_bytes, want, chunk));
  if (chunk.size() != want) {
    return base::corruption("snapshot {}: short read at offset {}", r.file->path(),
                            r.verified.state_offset + r.done_bytes);
  }
  r.state_hash.update(chunk);
  r.done_bytes += want;
  if (r.done_bytes == r.verified.state_bytes &&
      r.state_hash.digest() != r.verified.state_checksum) {
    return base::corruption("snapshot {}: state checksum mismatch on read", r.file->path());
  }
  return chunk;
}

// ---------------------------------------------------------------------------------------------
// Store

base::Result<std::unique_ptr<SnapshotStore>> SnapshotStore::open(Env& env, std::string dir) {
  std::unique_ptr<SnapshotStore> store(new SnapshotStore(env, std::move(dir)));
  RETURN_IF_ERROR(store->recover());
  return store;
}

base::Status SnapshotStore::recover() {
  RETURN_IF_ERROR(env_.create_dir(dir_));
  base::Result<std::vector<std::string>> names = env_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  std::vector<std::pair<std::pair<raft::Index, raft::Term>, std::string>> snapshots;
  std::vector<std::string> doomed;  // rows 2 of the decision table
  for (const std::string& name : *names) {
    if (name.starts_with(format::kSnapshotPrefix) && name.ends_with(format::kTmpSuffix)) {
      doomed.push_back(name);
    } else if (auto parsed = parse_snapshot_name(name)) {
      snapshots.emplace_back(*parsed, name);
    }
  }
  std::sort(snapshots.begin(), snapshots.end());
  if (!snapshots.empty()) {
    const auto [index, term] = snapshots.back().first;
    const std::string path = join_path(dir_, snapshots.back().second);
    base::Result<std::unique_ptr<File>> file = env_.open(path, OpenMode::kExisting);
    if (!file.is_ok()) return file.status();
    base::Result<Verified> verified = verify_file(**file);
    base::Status bad = verified.status();
    if (verified.is_ok() &&
        std::make_pair(verified->meta.index, verified->meta.term) != snapshots.back().first) {
      bad =
          base::corruption("snapshot {}: header says index {} term {}, unlike its name (offset 0)",
                           path, verified->meta.index, verified->meta.term);
    }
    if (bad.code() == base::Code::kCorruption) {  // row 1: Log::open decides
      corrupt_newest_ = CorruptSnapshot{path, index, term, bad.message()};
    } else if (!bad.is_ok()) {
      return bad;
    } else {
      latest_meta_ = verified->meta;
      latest_state_checksum_ = verified->state_checksum;
      latest_path_ = path;
    }
    snapshots.pop_back();
    for (const auto& older : snapshots) doomed.push_back(older.second);
  }
  for (const std::string& name : doomed) must(env_.remove(join_path(dir_, name)), "remove");
  if (!doomed.empty()) must(env_.sync_dir(dir_), "fsync directory");
  return base::Status::ok();
}

void SnapshotStore::set_aside_corrupt() {
  ENSURE(corrupt_newest_.has_value());
  base::Result<std::vector<std::string>> names = env_.list_dir(dir_);
  must(names.status(), "list");
  for (const std::string& name : *names) {
    if (name.starts_with(format::kSnapshotPrefix) && name.ends_with(format::kCorruptSuffix)) {
      must(env_.remove(join_path(dir_, name)), "remove");
    }
  }
  const std::string& path = corrupt_newest_->path;
  must(env_.rename(path, path + std::string(format::kCorruptSuffix)), "rename");
  must(env_.sync_dir(dir_), "fsync directory");
  corrupt_newest_.reset();
}

base::Result<std::unique_ptr<SnapshotWriter>> SnapshotStore::begin(const raft::SnapshotMeta& meta) {
  if (meta.index <= latest_meta_.index) {
    return base::invalid_argument("snapshot at index {} is not newer than the stored one at {}",
                                  meta.index, latest_meta_.index);
  }
  ENSURE_MSG(!writer_open_, "one snapshot writer at a time");
  auto impl = std::make_unique<SnapshotWriter::Impl>();
  impl->store = this;
  impl->meta = meta;
  impl->final_path = join_path(dir_, snapshot_file_name(meta.index, meta.term));
  impl->tmp_path = impl->final_path + std::string(format::kTmpSuffix);
  base::Result<std::unique_ptr<File>> file = env_.open(impl->tmp_path, OpenMode::kCreateTruncate);
  if (!file.is_ok()) return space_or_fatal(file.status(), dir_, "creating a snapshot");
  impl->file = std::move(file).value();
  impl->write(encode_header(meta));
  writer_open_ = true;
  return std::unique_ptr<SnapshotWriter>(new SnapshotWriter(std::move(impl)));
}

void SnapshotStore::install(const raft::SnapshotMeta& meta, uint64_t state_checksum,
                            const std::string& path) {
  const std::string previous = latest_path_;
  latest_meta_ = meta;
  latest_state_checksum_ = state_checksum;
  latest_path_ = path;
  // Only now that the new snapshot is durable may the old one go (FORMAT.md rule 3).
  if (!previous.empty()) {
    must(env_.remove(previous), "remove");
    must(env_.sync_dir(dir_), "fsync directory");
  }
}

base::Result<std::unique_ptr<SnapshotReader>> SnapshotStore::open_latest() const {
  if (latest_path_.empty()) return base::Status(base::Code::kNotFound, "no snapshot");
  base::Result<std::unique_ptr<File>> file = env_.open(latest_path_, OpenMode::kExisting);
  if (!file.is_ok()) return file.status();
  base::Result<Verified> verified = verify_file(**file);
  if (!verified.is_ok()) return verified.status();
  auto impl = std::make_unique<SnapshotReader::Impl>();
  impl->file = std::move(file).value();
  impl->verified = *verified;
  return std::unique_ptr<SnapshotReader>(new SnapshotReader(std::move(impl)));
}

base::Result<std::string> SnapshotStore::read_latest() const {
  base::Result<std::unique_ptr<SnapshotReader>> reader = open_latest();
  if (!reader.is_ok()) return reader.status();
  std::string state;
  state.reserve((*reader)->state_bytes());
  for (;;) {
    base::Result<std::string> chunk = (*reader)->read(kReadChunkBytes);
    if (!chunk.is_ok()) return chunk.status();
    if (chunk->empty()) return state;
    state += *chunk;
  }
}

}  // namespace wal
