#include "wal/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wal {

namespace {

base::Status os_error(std::string_view operation, const std::string& path, int error) {
  const base::Code code =
      error == ENOSPC || error == EDQUOT ? base::Code::kResourceExhausted : base::Code::kIoError;
  return base::Status(
      code, fmt::format("{} {}: {} (errno {})", operation, path, std::strerror(error), error));
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : File(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  base::Status pwrite(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return os_error("pwrite", path(), errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return base::Status::ok();
  }

  base::Status pread(uint64_t offset, size_t size, std::string& out) const override {
    out.resize(size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return os_error("pread", path(), errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return base::Status::ok();
  }

  base::Status sync_data() override {
    if (::fdatasync(fd_) != 0) return os_error("fdatasync", path(), errno);
    return base::Status::ok();
  }

  base::Status truncate(uint64_t size_bytes) override {
    if (::ftruncate(fd_, static_cast<off_t>(size_bytes)) != 0) {
      return os_error("ftruncate", path(), errno);
    }
    return base::Status::ok();
  }

  base::Status preallocate(uint64_t size_bytes) override {
    // fallocate mode 0 allocates blocks and extends the size; they read as zeros.
    const int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(size_bytes));
    if (error != 0) return os_error("posix_fallocate", path(), error);
    return base::Status::ok();
  }

  base::Result<uint64_t> size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return os_error("fstat", path(), errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  base::Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_RDWR | O_CLOEXEC;
    if (mode == OpenMode::kCreateNew) flags |= O_CREAT | O_EXCL;
    if (mode == OpenMode::kCreateTruncate) flags |= O_CREAT | O_TRUNC;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return os_error("open", path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(path, fd));
  }

  base::Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return os_error("mkdir", dir, errno);
    return base::Status::ok();
  }

  base::Result<std::vector<std::string>> list_dir(const std::string& dir) const override {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) return os_error("opendir", dir, errno);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(handle)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    return names;
  }

  base::Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return os_error("rename", from + " -> " + to, errno);
    return base::Status::ok();
  }

  base::Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return os_error("unlink", path, errno);
    return base::Status::ok();
  }

  base::Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return os_error("open directory", dir, errno);
    const int result = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (result != 0) return os_error("fsync directory", dir, error);
    return base::Status::ok();
  }

  base::Result<uint64_t> free_bytes(const std::string& dir) const override {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return os_error("statvfs", dir, errno);
    return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
  }
};

}  // namespace

Env& posix_env() {
  static PosixEnv env;
  return env;
}

}  // namespace wal
