#include "wal/identity.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/hash.h"

namespace wal {

namespace {

// FORMAT.md "Storage identity": magic, id, reason, predecessor flag + id, message length.
constexpr size_t kFixedBytes = 8 + format::kStorageIdBytes + 1 + 1 + format::kStorageIdBytes + 4;
constexpr size_t kChecksumBytes = 8;

std::string identity_path(const std::string& dir) { return join_path(dir, format::kIdentityName); }

void put_id(base::Bytes& out, const StorageId& id) {
  out.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

bool get_id(base::Reader& reader, StorageId& id) {
  base::BytesView raw;
  if (!reader.bytes(id.bytes.size(), raw)) return false;
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(id.bytes.data()));
  return true;
}

}  // namespace

bool StorageId::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string StorageId::to_string() const {
  return base::to_hex(base::BytesView(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

StorageId StorageId::random(base::Rng& random) {
  StorageId id;
  do {
    for (size_t i = 0; i < id.bytes.size(); i += 8) {
      const uint64_t word = random.next();
      for (size_t k = 0; k < 8; ++k) id.bytes[i + k] = static_cast<uint8_t>(word >> (8 * k));
    }
  } while (id.is_zero());
  return id;
}

const char* storage_loss_name(StorageLoss loss) {
  switch (loss) {
    case StorageLoss::kNone:
      return "none";
    case StorageLoss::kCorruptSyncedRecord:
      return "corrupt-synced-record";
    case StorageLoss::kTruncatedSegment:
      return "truncated-segment";
    case StorageLoss::kMissingSegment:
      return "missing-segment";
    case StorageLoss::kMissingHardState:
      return "missing-hard-state";
    case StorageLoss::kCorruptSnapshot:
      return "corrupt-snapshot";
    case StorageLoss::kLostIdentity:
      return "lost-identity";
    case StorageLoss::kReplacedStorage:
      return "replaced-storage";
  }
  return "unknown";
}

base::Result<StorageIdentity> StorageIdentity::load(Env& env, std::string dir) {
  StorageIdentity identity(env, std::move(dir));
  const std::string path = identity_path(identity.dir_);
  base::Result<std::vector<std::string>> names = env.list_dir(identity.dir_);
  if (!names.is_ok()) return names.status();
  if (!std::binary_search(names->begin(), names->end(), std::string(format::kIdentityName))) {
    return base::Status(base::Code::kNotFound, fmt::format("{} does not exist", path));
  }
  base::Result<std::unique_ptr<File>> file = env.open(path, OpenMode::kExisting);
  if (!file.is_ok()) return file.status();
  base::Result<uint64_t> size = (*file)->size();
  if (!size.is_ok()) return size.status();
  std::string bytes;
  const uint64_t max_bytes = kFixedBytes + format::kIdentityMessageMaxBytes + kChecksumBytes;
  RETURN_IF_ERROR((*file)->pread(0, static_cast<size_t>(std::min(*size, max_bytes + 1)), bytes));
  RETURN_IF_ERROR(identity.decode(bytes));
  return identity;
}

base::Result<StorageIdentity> StorageIdentity::create(Env& env, std::string dir, base::Rng& random,
                                                      StorageLoss reason, std::string message) {
  StorageIdentity identity(env, std::move(dir));
  identity.id_ = StorageId::random(random);
  identity.reason_ = reason;
  if (reason != StorageLoss::kNone) identity.message_ = std::move(message);
  identity.message_.resize(
      std::min<size_t>(identity.message_.size(), format::kIdentityMessageMaxBytes));
  RETURN_IF_ERROR(identity.store());
  return identity;
}

base::Status StorageIdentity::mark_needs_repair(StorageLoss reason, std::string message,
                                                std::optional<StorageId> predecessor) {
  ENSURE(reason != StorageLoss::kNone);
  StorageIdentity next = *this;
  next.reason_ = reason;
  next.message_ = std::move(message);
  next.message_.resize(std::min<size_t>(next.message_.size(), format::kIdentityMessageMaxBytes));
  if (predecessor) next.predecessor_ = predecessor;
  RETURN_IF_ERROR(next.store());
  *this = std::move(next);
  return base::Status::ok();
}

base::Status StorageIdentity::mark_repaired() {
  StorageIdentity next = *this;
  next.reason_ = StorageLoss::kNone;
  next.message_.clear();
  next.predecessor_.reset();
  RETURN_IF_ERROR(next.store());
  *this = std::move(next);
  return base::Status::ok();
}

base::Bytes StorageIdentity::encode() const {
  base::Bytes out(format::kIdentityMagic);
  put_id(out, id_);
  base::put_u8(out, static_cast<uint8_t>(reason_));
  base::put_u8(out, predecessor_ ? 1 : 0);
  put_id(out, predecessor_.value_or(StorageId{}));
  base::put_u32_le(out, static_cast<uint32_t>(message_.size()));
  out.append(message_);
  base::put_u64_le(out, base::xxh3(out));
  return out;
}

// Every field is checked: a damaged file is refused, never half trusted.
base::Status StorageIdentity::decode(std::string_view bytes) {
  const std::string path = identity_path(dir_);
  if (bytes.size() < kFixedBytes + kChecksumBytes) {
    return base::corruption("{}: {} bytes, shorter than an identity", path, bytes.size());
  }
  const size_t body_bytes = bytes.size() - kChecksumBytes;
  if (base::xxh3(bytes.data(), body_bytes) != base::get_u64_le(bytes.data() + body_bytes)) {
    return base::corruption("{}: checksum mismatch (at offset {})", path, body_bytes);
  }
  base::Reader reader(bytes.substr(0, body_bytes));
  base::BytesView magic;
  uint8_t reason = 0, has_predecessor = 0;
  uint32_t message_bytes = 0;
  StorageId predecessor;
  reader.bytes(format::kIdentityMagic.size(), magic);
  get_id(reader, id_);
  reader.u8(reason);
  reader.u8(has_predecessor);
  get_id(reader, predecessor);
  reader.u32_le(message_bytes);
  base::BytesView message;
  if (!reader.ok() || magic != format::kIdentityMagic || id_.is_zero() ||
      reason > static_cast<uint8_t>(kLastStorageLoss) || has_predecessor > 1 ||
      (has_predecessor == 0) != predecessor.is_zero() ||
      message_bytes > format::kIdentityMessageMaxBytes || !reader.bytes(message_bytes, message) ||
      !reader.empty() || (reason == 0 && message_bytes != 0)) {
    return base::corruption("{}: malformed identity (offset 0)", path);
  }
  reason_ = static_cast<StorageLoss>(reason);
  message_.assign(message);
  if (has_predecessor) predecessor_ = predecessor;
  return base::Status::ok();
}

// tmp file, fdatasync, rename, directory fsync (FORMAT.md rule 6).
base::Status StorageIdentity::store() {
  const std::string path = identity_path(dir_);
  const std::string tmp = path + std::string(format::kTmpSuffix);
  std::unique_ptr<File> file;
  base::Status written;
  if (auto opened = env_->open(tmp, OpenMode::kCreateTruncate); opened.is_ok()) {
    file = std::move(opened).value();
    written = file->pwrite(0, encode());
  } else {
    written = opened.status();
  }
  if (written.is_ok()) {
    must_io(file->sync_data(), "fdatasync of the storage identity");
    file.reset();
    written = env_->rename(tmp, path);
  }
  if (!written.is_ok()) {
    file.reset();
    (void)env_->remove(tmp);  // best effort: Log::open removes a leftover tmp file anyway
    return space_or_fatal(written, dir_, "writing the storage identity");
  }
  must_io(env_->sync_dir(dir_), "fsync of the data directory");
  return base::Status::ok();
}

}  // namespace wal
