#include "wal/fault_env.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

namespace wal {

namespace {

std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

base::Status io_error(std::string_view operation, const std::string& path, int error) {
  const base::Code code =
      error == ENOSPC || error == EDQUOT ? base::Code::kResourceExhausted : base::Code::kIoError;
  return base::Status(code, fmt::format("{} {}: {} (errno {}, injected)", operation, path,
                                        std::strerror(error), error));
}

class FaultFile final : public File {
 public:
  FaultFile(std::string path, FaultEnv* env, std::shared_ptr<FaultEnv::Inode> inode)
      : File(std::move(path)),
        env_(env),
        inode_(std::move(inode)),
        generation_(env->generation()) {}

  base::Status pwrite(uint64_t offset, std::string_view data) override {
    RETURN_IF_ERROR(alive());
    bool partial = false;
    base::Status failed = env_->check_injection(FaultOp::kWrite, path(), &partial);
    if (!failed.is_ok()) {
      if (partial && !data.empty())
        write_at(offset, data.substr(0, env_->random_below(data.size())));
      return failed;
    }
    const uint64_t end = offset + data.size();
    const uint64_t growth = end > inode_->data.size() ? end - inode_->data.size() : 0;
    uint64_t allowed = 0;
    failed = env_->check_space(growth, path(), &allowed);
    if (!failed.is_ok()) {  // write what fits, as write(2) does
      const uint64_t fits_end = inode_->data.size() + allowed;
      if (offset < fits_end) write_at(offset, data.substr(0, fits_end - offset));
      return failed;
    }
    write_at(offset, data);
    return base::Status::ok();
  }

  base::Status pread(uint64_t offset, size_t size, std::string& out) const override {
    RETURN_IF_ERROR(alive());
    const std::string& bytes = inode_->data;
    out.clear();
    if (offset < bytes.size())
      out.assign(bytes, offset, std::min<uint64_t>(size, bytes.size() - offset));
    return base::Status::ok();
  }

  base::Status sync_data() override {
    RETURN_IF_ERROR(check(FaultOp::kSyncData));
    env_->count_sync_data();
    inode_->synced = inode_->data;
    return base::Status::ok();
  }

  base::Status truncate(uint64_t size_bytes) override {
    RETURN_IF_ERROR(check(FaultOp::kWrite));
    RETURN_IF_ERROR(check_growth(size_bytes));
    inode_->data.resize(size_bytes, '\0');
    return base::Status::ok();
  }

  base::Status preallocate(uint64_t size_bytes) override {
    RETURN_IF_ERROR(check(FaultOp::kWrite));
    RETURN_IF_ERROR(check_growth(size_bytes));
    if (inode_->data.size() < size_bytes) inode_->data.resize(size_bytes, '\0');
    return base::Status::ok();
  }

  base::Result<uint64_t> size() const override {
    RETURN_IF_ERROR(alive());
    return static_cast<uint64_t>(inode_->data.size());
  }

 private:
  base::Status alive() const {
    if (generation_ != env_->generation()) {
      return base::Status(base::Code::kIoError,
                          fmt::format("{}: handle from before a power loss", path()));
    }
    return base::Status::ok();
  }
  base::Status check(FaultOp op) {
    RETURN_IF_ERROR(alive());
    return env_->check_injection(op, path());
  }
  base::Status check_growth(uint64_t new_size_bytes) const {
    const uint64_t size = inode_->data.size();
    return env_->check_space(new_size_bytes > size ? new_size_bytes - size : 0, path());
  }
  void write_at(uint64_t offset, std::string_view data) {
    std::string& bytes = inode_->data;
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
    bytes.replace(offset, data.size(), data);
  }

  FaultEnv* env_;
  std::shared_ptr<FaultEnv::Inode> inode_;
  uint64_t generation_;
};

}  // namespace

FaultEnv::Directory* FaultEnv::find_dir(const std::string& dir) {
  auto it = dirs_.find(dir);
  return it == dirs_.end() ? nullptr : &it->second;
}

const FaultEnv::Directory* FaultEnv::find_dir(const std::string& dir) const {
  auto it = dirs_.find(dir);
  return it == dirs_.end() ? nullptr : &it->second;
}

base::Status FaultEnv::check_injection(FaultOp op, const std::string& path, bool* partial) {
  for (auto it = injections_.begin(); it != injections_.end(); ++it) {
    if (it->op != op) continue;
    if (it->countdown-- > 0) continue;
    const int error = it->errno_value;
    if (partial != nullptr) *partial = it->partial;
    injections_.erase(it);
    const char* name = op == FaultOp::kWrite      ? "write"
                       : op == FaultOp::kSyncData ? "fdatasync"
                                                  : "fsync directory";
    return io_error(name, path, error);
  }
  return base::Status::ok();
}

base::Result<std::unique_ptr<File>> FaultEnv::open(const std::string& path, OpenMode mode) {
  const auto [dir_name, name] = split_path(path);
  Directory* dir = find_dir(dir_name);
  if (dir == nullptr) return io_error("open", path, ENOENT);
  auto it = dir->names.find(name);
  std::shared_ptr<Inode> inode;
  if (it != dir->names.end()) {
    if (mode == OpenMode::kCreateNew) return io_error("open", path, EEXIST);
    inode = it->second;
    if (mode == OpenMode::kCreateTruncate) inode->data.clear();
  } else {
    if (mode == OpenMode::kExisting) return io_error("open", path, ENOENT);
    inode = std::make_shared<Inode>();
    dir->names[name] = inode;
  }
  return std::unique_ptr<File>(std::make_unique<FaultFile>(path, this, std::move(inode)));
}

base::Status FaultEnv::create_dir(const std::string& dir) {
  dirs_.try_emplace(dir);
  return base::Status::ok();
}

base::Result<std::vector<std::string>> FaultEnv::list_dir(const std::string& dir_name) const {
  const Directory* dir = find_dir(dir_name);
  if (dir == nullptr) return io_error("opendir", dir_name, ENOENT);
  std::vector<std::string> names;
  for (const auto& [name, inode] : dir->names) names.push_back(name);
  return names;  // std::map keeps them sorted
}

base::Status FaultEnv::rename(const std::string& from, const std::string& to) {
  const auto [from_dir_name, from_name] = split_path(from);
  const auto [to_dir_name, to_name] = split_path(to);
  Directory* from_dir = find_dir(from_dir_name);
  Directory* to_dir = find_dir(to_dir_name);
  if (from_dir == nullptr || to_dir == nullptr) return io_error("rename", from, ENOENT);
  auto it = from_dir->names.find(from_name);
  if (it == from_dir->names.end()) return io_error("rename", from, ENOENT);
  std::shared_ptr<Inode> inode = it->second;
  from_dir->names.erase(it);
  to_dir->names[to_name] = std::move(inode);
  return base::Status::ok();
}

base::Status FaultEnv::remove(const std::string& path) {
  const auto [dir_name, name] = split_path(path);
  Directory* dir = find_dir(dir_name);
  if (dir == nullptr || dir->names.erase(name) == 0) return io_error("unlink", path, ENOENT);
  return base::Status::ok();
}

base::Status FaultEnv::sync_dir(const std::string& dir_name) {
  Directory* dir = find_dir(dir_name);
  if (dir == nullptr) return io_error("fsync directory", dir_name, ENOENT);
  RETURN_IF_ERROR(check_injection(FaultOp::kSyncDir, dir_name));
  ++sync_dir_calls_;
  dir->synced_names = dir->names;
  return base::Status::ok();
}

void FaultEnv::inject_error(FaultOp op, int errno_value, int countdown, bool partial) {
  injections_.push_back(Injection{op, errno_value, countdown, partial});
}

uint64_t FaultEnv::used_bytes() const {
  std::set<const Inode*> seen;
  uint64_t used = 0;
  for (const auto& [dir_name, dir] : dirs_) {
    for (const auto& [name, inode] : dir.names) {
      if (seen.insert(inode.get()).second) used += inode->data.size();
    }
  }
  return used;
}

base::Status FaultEnv::check_space(uint64_t growth_bytes, const std::string& path,
                                   uint64_t* allowed_bytes) const {
  if (!capacity_bytes_ || growth_bytes == 0) return base::Status::ok();
  const uint64_t used = used_bytes();
  const uint64_t left = used < *capacity_bytes_ ? *capacity_bytes_ - used : 0;
  if (allowed_bytes != nullptr) *allowed_bytes = std::min(left, growth_bytes);
  if (growth_bytes <= left) return base::Status::ok();
  return io_error("write", path, ENOSPC);
}

base::Result<uint64_t> FaultEnv::free_bytes(const std::string& dir) const {
  if (find_dir(dir) == nullptr) return io_error("statvfs", dir, ENOENT);
  if (!capacity_bytes_) return std::numeric_limits<uint64_t>::max();
  const uint64_t used = used_bytes();
  return used < *capacity_bytes_ ? *capacity_bytes_ - used : 0;
}

void FaultEnv::tear(Inode& inode) {
  const std::string& now = inode.data;
  const std::string& old = inode.synced;
  const size_t longest = std::max(now.size(), old.size());
  auto at = [](const std::string& s, size_t i) { return i < s.size() ? s[i] : '\0'; };
  size_t first_diff = 0;
  while (first_diff < longest && at(now, first_diff) == at(old, first_diff)) ++first_diff;
  size_t last_diff = longest;  // one past the last differing byte
  while (last_diff > first_diff && at(now, last_diff - 1) == at(old, last_diff - 1)) --last_diff;
  const size_t kept_end = first_diff + rng_.uniform(last_diff - first_diff + 1);
  const size_t size = rng_.chance(1, 2) ? now.size() : old.size();
  std::string result(size, '\0');
  for (size_t i = 0; i < size; ++i) result[i] = i < kept_end ? at(now, i) : at(old, i);
  if (kept_end < std::min(size, last_diff) && rng_.chance(1, 2)) {
    const size_t garbage_end = kept_end + 1 + rng_.uniform(std::min(size, last_diff) - kept_end);
    for (size_t i = kept_end; i < garbage_end; ++i) result[i] = static_cast<char>(rng_.next());
  }
  inode.data = result;
  inode.synced = std::move(result);
}

void FaultEnv::power_loss(PowerLossMode mode) {
  ++generation_;
  injections_.clear();
  for (auto& [dir_name, dir] : dirs_) {
    dir.names = dir.synced_names;
    for (auto& [name, inode] : dir.names) {
      if (mode == PowerLossMode::kTear) {
        tear(*inode);
      } else {
        inode->data = inode->synced;
      }
    }
  }
}

std::optional<std::string> FaultEnv::contents(const std::string& path) const {
  const auto [dir_name, name] = split_path(path);
  const Directory* dir = find_dir(dir_name);
  if (dir == nullptr) return std::nullopt;
  auto it = dir->names.find(name);
  if (it == dir->names.end()) return std::nullopt;
  return it->second->data;
}

void FaultEnv::set_durable_contents(const std::string& path, std::string bytes) {
  const auto [dir_name, name] = split_path(path);
  Directory& dir = dirs_[dir_name];
  auto inode = std::make_shared<Inode>();
  inode->data = bytes;
  inode->synced = std::move(bytes);
  dir.names[name] = inode;
  dir.synced_names[name] = std::move(inode);
}

}  // namespace wal
