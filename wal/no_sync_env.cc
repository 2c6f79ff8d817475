#include "wal/no_sync_env.h"

namespace wal {

namespace {

class NoSyncFile final : public File {
 public:
  explicit NoSyncFile(std::unique_ptr<File> inner)
      : File(inner->path()), inner_(std::move(inner)) {}

  base::Status pwrite(uint64_t offset, std::string_view data) override {
    return inner_->pwrite(offset, data);
  }
  base::Status pread(uint64_t offset, size_t size, std::string& out) const override {
    return inner_->pread(offset, size, out);
  }
  base::Status sync_data() override { return base::Status::ok(); }  // the planted bug
  base::Status truncate(uint64_t size_bytes) override { return inner_->truncate(size_bytes); }
  base::Status preallocate(uint64_t size_bytes) override { return inner_->preallocate(size_bytes); }
  base::Result<uint64_t> size() const override { return inner_->size(); }

 private:
  std::unique_ptr<File> inner_;
};

}  // namespace

base::Result<std::unique_ptr<File>> NoSyncEnv::open(const std::string& path, OpenMode mode) {
  auto file = inner_.open(path, mode);
  if (!file.is_ok()) return file;
  return std::unique_ptr<File>(std::make_unique<NoSyncFile>(std::move(*file)));
}

}  // namespace wal
