#include "storage/sealed_log_env.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string_view>

namespace lattice::kernel {
namespace {

// Syncs before it closes. LevelDB deletes a log it switches away from without calling
// Close, so the destructor seals too; a failure there can only be logged, and the next
// synced write (or the open that replays the log) is where it would show.
class SealedLogFile final : public leveldb::WritableFile {
 public:
  SealedLogFile(std::string name, leveldb::WritableFile* base)
      : name_(std::move(name)), base_(base) {}
  ~SealedLogFile() override {
    if (!closed_) {
      leveldb::Status s = Seal();
      if (!s.ok()) spdlog::warn("write-ahead log {} not synced at close: {}", name_, s.ToString());
    }
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    dirty_ = true;
    return base_->Append(data);
  }
  leveldb::Status Flush() override { return base_->Flush(); }
  leveldb::Status Sync() override {
    leveldb::Status s = base_->Sync();
    if (s.ok()) dirty_ = false;
    return s;
  }
  leveldb::Status Close() override {
    leveldb::Status s = Seal();
    leveldb::Status closed = base_->Close();
    closed_ = true;
    return s.ok() ? closed : s;
  }

 private:
  leveldb::Status Seal() { return dirty_ ? Sync() : leveldb::Status::OK(); }

  std::string name_;
  std::unique_ptr<leveldb::WritableFile> base_;
  bool dirty_ = false;  // appended since the last sync
  bool closed_ = false;
};

}  // namespace

bool IsWriteAheadLog(const std::string& name) {
  std::string file = std::filesystem::path(name).filename().string();
  constexpr std::string_view kSuffix = ".log";
  if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) return false;
  return std::all_of(file.begin(), file.end() - kSuffix.size(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

leveldb::Status SealedLogEnv::NewWritableFile(const std::string& name,
                                              leveldb::WritableFile** result) {
  leveldb::Status s = target()->NewWritableFile(name, result);
  if (s.ok() && IsWriteAheadLog(name)) *result = new SealedLogFile(name, *result);
  return s;
}

leveldb::Status SealedLogEnv::NewAppendableFile(const std::string& name,
                                                leveldb::WritableFile** result) {
  leveldb::Status s = target()->NewAppendableFile(name, result);
  if (s.ok() && IsWriteAheadLog(name)) *result = new SealedLogFile(name, *result);
  return s;
}

}  // namespace lattice::kernel
