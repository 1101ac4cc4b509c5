#include "storage/durable_env.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "lattice/common/files.h"
#include "storage/prepared_log_file.h"
#include "storage/sealed_log_env.h"

namespace lattice::kernel {
namespace {

leveldb::Status SyncDirectoryOf(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  absl::Status s = FsyncDir(dir);
  if (!s.ok()) return leveldb::Status::IOError(dir, std::string(s.message()));
  return leveldb::Status::OK();
}

class DirectorySyncingFile final : public leveldb::WritableFile {
 public:
  DirectorySyncingFile(std::string name, leveldb::WritableFile* base)
      : name_(std::move(name)), base_(base) {}

  leveldb::Status Append(const leveldb::Slice& data) override { return base_->Append(data); }
  leveldb::Status Close() override { return base_->Close(); }
  leveldb::Status Flush() override { return base_->Flush(); }
  leveldb::Status Sync() override {
    leveldb::Status s = base_->Sync();
    if (s.ok() && !directory_synced_) {
      s = SyncDirectoryOf(name_);
      directory_synced_ = s.ok();
    }
    return s;
  }

 private:
  std::string name_;
  std::unique_ptr<leveldb::WritableFile> base_;
  bool directory_synced_ = false;
};

class DirectorySyncingEnv final : public leveldb::EnvWrapper {
 public:
  DirectorySyncingEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    if (IsWriteAheadLog(name)) {
      std::unique_ptr<leveldb::WritableFile> log;
      leveldb::Status s = PreparedLogFile::Create(name, &log);
      if (!s.ok()) return s;
      *result = new DirectorySyncingFile(name, log.release());
      return s;
    }
    leveldb::WritableFile* base = nullptr;
    leveldb::Status s = target()->NewWritableFile(name, &base);
    if (!s.ok()) return s;
    *result = new DirectorySyncingFile(name, base);
    return s;
  }

  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override {
    leveldb::WritableFile* base = nullptr;
    leveldb::Status s = target()->NewAppendableFile(name, &base);
    if (!s.ok()) return s;
    *result = new DirectorySyncingFile(name, base);
    return s;
  }

  leveldb::Status RenameFile(const std::string& from, const std::string& to) override {
    leveldb::Status s = target()->RenameFile(from, to);
    if (!s.ok()) return s;
    return SyncDirectoryOf(to);
  }
};

}  // namespace

leveldb::Env* DurableEnv() {
  static auto* env = new DirectorySyncingEnv();
  return env;
}

}  // namespace lattice::kernel
