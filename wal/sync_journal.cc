#include "wal/sync_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/flags.h"
#include "wal/posix_env.h"

namespace wal {

namespace {

constexpr std::string_view kHeader = "raftkv-sync-journal 1";

base::Status os_error(std::string_view operation, const std::string& path, int error) {
  return base::Status(base::Code::kIoError, fmt::format("{} {}: {} (errno {})", operation, path,
                                                        std::strerror(error), error));
}

bool hidden_name(std::string_view name) {
  return name == kSyncJournalName || name.starts_with(kSyncJournalTrashPrefix);
}

base::Result<uint64_t> inode_number(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return os_error("stat", path, errno);
  return static_cast<uint64_t>(st.st_ino);
}

// Passes every call through; keeps the inode's data end current and journals each sync.
class JournalFile final : public File {
 public:
  JournalFile(std::unique_ptr<File> inner, std::shared_ptr<SyncJournalEnv::Inode> inode,
              SyncJournalEnv& env)
      : File(inner->path()), inner_(std::move(inner)), inode_(std::move(inode)), env_(env) {}

  base::Status pwrite(uint64_t offset, std::string_view data) override {
    // A failed write may have written a prefix (env.h): count it as written either way.
    inode_->data_end_bytes = std::max(inode_->data_end_bytes, offset + data.size());
    return inner_->pwrite(offset, data);
  }
  base::Status pread(uint64_t offset, size_t size, std::string& out) const override {
    return inner_->pread(offset, size, out);
  }
  base::Status sync_data() override {
    RETURN_IF_ERROR(inner_->sync_data());
    auto size = inner_->size();
    if (!size.is_ok()) return size.status();
    return env_.journal_sync(*inode_, *size);
  }
  base::Status truncate(uint64_t size_bytes) override {
    RETURN_IF_ERROR(inner_->truncate(size_bytes));
    inode_->data_end_bytes = std::min(inode_->data_end_bytes, size_bytes);
    return base::Status::ok();
  }
  base::Status preallocate(uint64_t size_bytes) override {
    return inner_->preallocate(size_bytes);  // zeros: the data end does not move
  }
  base::Result<uint64_t> size() const override { return inner_->size(); }

 private:
  std::unique_ptr<File> inner_;
  std::shared_ptr<SyncJournalEnv::Inode> inode_;
  SyncJournalEnv& env_;
};

}  // namespace

base::Result<uint64_t> content_end_bytes(int fd, uint64_t from, uint64_t size_bytes) {
  constexpr uint64_t kChunkBytes = 1 << 20;
  std::string buffer;
  uint64_t end = size_bytes;
  while (end > from) {
    const uint64_t begin = end - std::min(kChunkBytes, end - from);
    buffer.resize(end - begin);
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(begin));
    if (n < 0) return os_error("pread", fmt::format("fd {}", fd), errno);
    buffer.resize(static_cast<size_t>(n));  // shorter only if the file shrank meanwhile
    auto last = std::find_if(buffer.rbegin(), buffer.rend(), [](char c) { return c != 0; });
    if (last != buffer.rend()) return begin + static_cast<uint64_t>(buffer.rend() - last);
    end = begin;
  }
  return from;
}

SyncJournalEnv::SyncJournalEnv(std::string data_dir, int journal_fd)
    : inner_(posix_env()), dir_(std::move(data_dir)), journal_fd_(journal_fd) {}

SyncJournalEnv::~SyncJournalEnv() { ::close(journal_fd_); }

base::Result<std::unique_ptr<SyncJournalEnv>> SyncJournalEnv::open(std::string data_dir) {
  RETURN_IF_ERROR(posix_env().create_dir(data_dir));
  const std::string path = join_path(data_dir, kSyncJournalName);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("open", path, errno);
  std::unique_ptr<SyncJournalEnv> env(new SyncJournalEnv(std::move(data_dir), fd));
  RETURN_IF_ERROR(env->write_baseline());
  return env;
}

bool SyncJournalEnv::in_data_dir(const std::string& path) const {
  return path.size() > dir_.size() + 1 && path.starts_with(dir_) && path[dir_.size()] == '/' &&
         path.find('/', dir_.size() + 1) == std::string::npos;
}

base::Status SyncJournalEnv::append_line(const std::string& line) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(journal_fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write", join_path(dir_, kSyncJournalName), errno);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return base::Status::ok();
}

// Everything already here was left by a process that was killed or stopped, not power-cut:
// it is all durable now. Trash left by a killed process is gone for good.
base::Status SyncJournalEnv::write_baseline() {
  struct stat st {};
  const std::string journal_path = join_path(dir_, kSyncJournalName);
  if (::stat(journal_path.c_str(), &st) != 0) return os_error("stat", journal_path, errno);
  if (st.st_size == 0) RETURN_IF_ERROR(append_line(std::string(kHeader) + "\n"));
  auto names = inner_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.starts_with(kSyncJournalTrashPrefix))
      RETURN_IF_ERROR(inner_.remove(join_path(dir_, name)));
  }
  for (const std::string& name : *names) {
    if (hidden_name(name)) continue;
    auto inode = inode_of(join_path(dir_, name), /*fresh=*/false);
    if (!inode.is_ok()) return inode.status();
    if (*inode == nullptr) continue;  // not a regular file
    const std::string path = join_path(dir_, name);
    if (::stat(path.c_str(), &st) != 0) return os_error("stat", path, errno);
    RETURN_IF_ERROR(journal_sync(**inode, static_cast<uint64_t>(st.st_size)));
  }
  return journal_listing();
}

// The inode behind `path` (a regular file in the data directory), created fresh (data end 0)
// or looked up, scanning the file for its data end the first time. nullptr: not a regular file.
base::Result<std::shared_ptr<SyncJournalEnv::Inode>> SyncJournalEnv::inode_of(
    const std::string& path, bool fresh) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return os_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return std::shared_ptr<Inode>();
  const auto number = static_cast<uint64_t>(st.st_ino);
  auto& slot = inodes_[number];
  if (slot != nullptr && !fresh) return slot;
  slot = std::make_shared<Inode>(Inode{number, 0});
  if (fresh) return slot;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  auto end = content_end_bytes(fd, 0, static_cast<uint64_t>(st.st_size));
  ::close(fd);
  if (!end.is_ok()) return end.status();
  slot->data_end_bytes = *end;
  return slot;
}

base::Result<std::unique_ptr<File>> SyncJournalEnv::open(const std::string& path, OpenMode mode) {
  auto file = inner_.open(path, mode);
  if (!file.is_ok() || !in_data_dir(path)) return file;
  const bool fresh = mode != OpenMode::kExisting;
  auto inode = inode_of(path, fresh);
  if (!inode.is_ok()) return inode.status();
  if (*inode == nullptr) return file;
  // A new inode's durable content is empty until its first sync.
  if (fresh) RETURN_IF_ERROR(journal_sync(**inode, 0));
  return std::unique_ptr<File>(std::make_unique<JournalFile>(std::move(*file), *inode, *this));
}

base::Result<std::vector<std::string>> SyncJournalEnv::list_dir(const std::string& dir) const {
  auto names = inner_.list_dir(dir);
  if (!names.is_ok() || dir != dir_) return names;
  std::erase_if(*names, [](const std::string& name) { return hidden_name(name); });
  return names;
}

// A name replaced by the rename goes to the trash first, so a rollback can bring it back.
base::Status SyncJournalEnv::rename(const std::string& from, const std::string& to) {
  if (in_data_dir(to) && ::access(to.c_str(), F_OK) == 0) RETURN_IF_ERROR(remove(to));
  return inner_.rename(from, to);
}

base::Status SyncJournalEnv::remove(const std::string& path) {
  if (!in_data_dir(path)) return inner_.remove(path);
  const std::string trash =
      join_path(dir_, fmt::format("{}{}", kSyncJournalTrashPrefix, ++trash_count_));
  return inner_.rename(path, trash);
}

base::Status SyncJournalEnv::sync_dir(const std::string& dir) {
  if (dir != dir_) return inner_.sync_dir(dir);
  auto names = inner_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.starts_with(kSyncJournalTrashPrefix))
      RETURN_IF_ERROR(inner_.remove(join_path(dir_, name)));
  }
  RETURN_IF_ERROR(inner_.sync_dir(dir_));
  return journal_listing();
}

base::Status SyncJournalEnv::journal_sync(const Inode& inode, uint64_t size_bytes) {
  return append_line(
      fmt::format("sync\t{}\t{}\t{}\n", inode.number, inode.data_end_bytes, size_bytes));
}

// One line: the directory's names (journal and trash excluded) with their inode numbers.
base::Status SyncJournalEnv::journal_listing() {
  auto names = inner_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  std::string line = "list";
  std::string entries;
  size_t count = 0;
  for (const std::string& name : *names) {
    if (hidden_name(name)) continue;
    if (name.find_first_of("\t\n") != std::string::npos)
      return base::invalid_argument("sync journal: file name '{}' has a tab or newline", name);
    auto number = inode_number(join_path(dir_, name));
    if (!number.is_ok()) return number.status();
    entries += fmt::format("\t{}\t{}", *number, name);
    ++count;
  }
  return append_line(fmt::format("list\t{}{}\n", count, entries));
}

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    auto tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

base::Status parse_line(std::string_view line, SyncJournalState& state) {
  auto fields = split_tabs(line);
  auto number = [&](size_t i) -> base::Result<uint64_t> {
    if (i >= fields.size()) return base::invalid_argument("missing field {}", i);
    return base::parse_uint(fields[i]);
  };
  if (fields[0] == "sync" && fields.size() == 4) {
    auto inode = number(1), end = number(2), size = number(3);
    if (!inode.is_ok() || !end.is_ok() || !size.is_ok())
      return base::invalid_argument("bad sync record");
    state.synced[*inode] = {*end, *size};
    return base::Status::ok();
  }
  if (fields[0] == "list") {
    auto count = number(1);
    if (!count.is_ok() || fields.size() != 2 + 2 * *count)
      return base::invalid_argument("bad list record");
    state.has_listing = true;
    state.names.clear();
    for (size_t i = 0; i < *count; ++i) {
      auto inode = number(2 + 2 * i);
      if (!inode.is_ok()) return base::invalid_argument("bad inode in list record");
      state.names[std::string(fields[3 + 2 * i])] = *inode;
    }
    return base::Status::ok();
  }
  return base::invalid_argument("unknown record");
}

}  // namespace

base::Result<SyncJournalState> read_sync_journal(const std::string& journal_path) {
  std::ifstream in(journal_path, std::ios::binary);
  if (!in) {
    return base::Status(base::Code::kNotFound,
                        fmt::format("no sync journal at {} (was kvd started with "
                                    "--test-sync-journal?)",
                                    journal_path));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SyncJournalState state;
  std::string_view rest = text;
  uint64_t line_number = 0;
  while (!rest.empty()) {
    auto newline = rest.find('\n');
    if (newline == std::string_view::npos) break;  // a torn last line: never completed
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    ++line_number;
    if (line == kHeader) continue;
    if (line_number == 1) return base::corruption("{}: not a sync journal", journal_path);
    if (auto s = parse_line(line, state); !s.is_ok())
      return base::corruption("{} line {}: {}", journal_path, line_number, s.message());
  }
  if (!state.has_listing) return base::corruption("{}: no directory listing record", journal_path);
  return state;
}

}  // namespace wal
