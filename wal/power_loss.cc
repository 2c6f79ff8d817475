#include "wal/power_loss.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "wal/env.h"
#include "wal/sync_journal.h"

namespace wal {

namespace {

base::Status os_error(std::string_view operation, const std::string& path, int error) {
  return base::Status(base::Code::kIoError, fmt::format("{} {}: {} (errno {})", operation, path,
                                                        std::strerror(error), error));
}

struct Present {
  uint64_t inode = 0;
  uint64_t size_bytes = 0;
};

// The regular files in dir (the journal excluded), by name.
base::Result<std::map<std::string, Present>> list_files(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return os_error("opendir", dir, errno);
  std::map<std::string, Present> out;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || name == kSyncJournalName) continue;
    struct stat st {};
    if (::stat(join_path(dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out[name] = {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size)};
  }
  ::closedir(handle);
  return out;
}

base::Result<uint64_t> written_bytes(const std::string& path, uint64_t size_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  auto end = content_end_bytes(fd, 0, size_bytes);
  ::close(fd);
  return end;
}

// Truncates the file to its synced data end (dropping the unsynced writes after it), then sets
// its synced size (the gap reads as zeros, as the preallocated bytes did).
base::Status roll_back_content(const std::string& path, uint64_t size_bytes,
                               const SyncJournalState::Synced& synced, RollbackReport& report) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  const uint64_t keep = std::min(synced.data_end_bytes, size_bytes);
  auto end = content_end_bytes(fd, keep, size_bytes);
  base::Status status;
  if (!end.is_ok()) {
    status = end.status();
  } else if (*end > keep || size_bytes != synced.size_bytes) {
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 ||
        ::ftruncate(fd, static_cast<off_t>(synced.size_bytes)) != 0) {
      status = os_error("ftruncate", path, errno);
    } else {
      ++report.files_truncated;
      report.bytes_dropped += *end - keep;
    }
  }
  ::close(fd);
  return status;
}

}  // namespace

base::Status roll_back_unsynced(const std::string& data_dir, RollbackReport* report) {
  RollbackReport local;
  RollbackReport& out = report != nullptr ? *report : local;
  auto state = read_sync_journal(join_path(data_dir, kSyncJournalName));
  if (!state.is_ok()) return state.status();
  std::map<uint64_t, std::string> durable_name;  // inode -> its name in the durable listing
  for (const auto& [name, inode] : state->names) durable_name[inode] = name;
  auto files = list_files(data_dir);
  if (!files.is_ok()) return files.status();

  // Names the directory never made durable go; durable inodes found under another name (a
  // rename or a removal into the trash that was never synced) move aside, then back.
  std::vector<uint64_t> aside;
  for (const auto& [name, present] : *files) {
    const std::string path = join_path(data_dir, name);
    auto it = durable_name.find(present.inode);
    if (it == durable_name.end()) {
      auto written = written_bytes(path, present.size_bytes);
      if (!written.is_ok()) return written.status();
      if (::unlink(path.c_str()) != 0) return os_error("unlink", path, errno);
      ++out.files_removed;
      out.bytes_dropped += *written;
    } else if (it->second != name) {
      const std::string temporary =
          join_path(data_dir, fmt::format(".sync-journal-rollback-{}", present.inode));
      if (::rename(path.c_str(), temporary.c_str()) != 0)
        return os_error("rename", path + " -> " + temporary, errno);
      aside.push_back(present.inode);
    }
  }
  for (uint64_t inode : aside) {
    const std::string from = join_path(data_dir, fmt::format(".sync-journal-rollback-{}", inode));
    const std::string to = join_path(data_dir, durable_name[inode]);
    if (::rename(from.c_str(), to.c_str()) != 0)
      return os_error("rename", from + " -> " + to, errno);
  }

  auto restored = list_files(data_dir);
  if (!restored.is_ok()) return restored.status();
  for (const auto& [name, present] : *restored) {
    auto synced = state->synced.find(present.inode);
    // A durable name whose inode never synced its data holds nothing after a power loss.
    const SyncJournalState::Synced none;
    RETURN_IF_ERROR(roll_back_content(join_path(data_dir, name), present.size_bytes,
                                      synced == state->synced.end() ? none : synced->second, out));
  }
  return base::Status::ok();
}

}  // namespace wal
