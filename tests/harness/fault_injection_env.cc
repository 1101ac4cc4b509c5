#include "harness/fault_injection_env.h"

#include <unistd.h>

#include <filesystem>
#include <memory>

namespace lattice::testing {
namespace {

class FaultInjectionFile final : public leveldb::WritableFile {
 public:
  FaultInjectionFile(FaultInjectionEnv* env, std::string name, leveldb::WritableFile* base)
      : env_(env), name_(std::move(name)), base_(base) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!env_->powered()) return leveldb::Status::OK();
    leveldb::Status s = base_->Append(data);
    if (s.ok()) env_->Appended(name_, data.size());
    return s;
  }
  leveldb::Status Close() override { return base_->Close(); }
  leveldb::Status Flush() override {
    if (!env_->powered()) return leveldb::Status::OK();
    return base_->Flush();
  }
  leveldb::Status Sync() override {
    if (!env_->powered()) return leveldb::Status::OK();
    leveldb::Status s = base_->Flush();
    if (s.ok()) env_->Synced(name_);
    return s;
  }

 private:
  FaultInjectionEnv* env_;
  std::string name_;
  std::unique_ptr<leveldb::WritableFile> base_;
};

// What a file created after the cut gets: nothing it is given reaches the disk.
class UnpoweredFile final : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice&) override { return leveldb::Status::OK(); }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

bool FaultInjectionEnv::powered() const {
  std::lock_guard lock(mutex_);
  return powered_;
}

void FaultInjectionEnv::Appended(const std::string& name, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  if (powered_) files_[name].size += bytes;
}

uint64_t FaultInjectionEnv::log_syncs() const {
  std::lock_guard lock(mutex_);
  return log_syncs_;
}

void FaultInjectionEnv::IgnoreLogSyncs(bool ignore) {
  std::lock_guard lock(mutex_);
  ignore_log_syncs_ = ignore;
}

void FaultInjectionEnv::Synced(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (!powered_) return;
  bool log = name.ends_with(".log") && !name.ends_with("/LOG");
  if (log && ignore_log_syncs_) return;
  if (log) ++log_syncs_;
  FileState& file = files_[name];
  file.synced = file.size;
  file.named = true;
}

leveldb::Status FaultInjectionEnv::NewWritableFile(const std::string& name,
                                                   leveldb::WritableFile** result) {
  if (!powered()) {
    *result = new UnpoweredFile();  // and the file it would replace is left as it was
    return leveldb::Status::OK();
  }
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewWritableFile(name, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mutex_);
    files_[name] = FileState{};  // truncated: nothing of it is durable yet
  }
  *result = new FaultInjectionFile(this, name, base);
  return s;
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(const std::string& name,
                                                     leveldb::WritableFile** result) {
  if (!powered()) {
    *result = new UnpoweredFile();
    return leveldb::Status::OK();
  }
  uint64_t existing = 0;
  bool exists = target()->FileExists(name);
  if (exists) (void)target()->GetFileSize(name, &existing);
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewAppendableFile(name, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mutex_);
    if (!files_.count(name)) files_[name] = FileState{existing, existing, exists};
  }
  *result = new FaultInjectionFile(this, name, base);
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (!powered_) return leveldb::Status::OK();
  leveldb::Status s = target()->RenameFile(from, to);
  if (!s.ok()) return s;
  auto it = files_.find(from);
  if (it != files_.end()) {
    FileState moved = it->second;
    files_.erase(it);
    moved.named = true;  // DurableEnv syncs the directory after a rename
    files_[to] = moved;
  } else {
    files_.erase(to);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (!powered_) return leveldb::Status::OK();
  files_.erase(name);
  return target()->RemoveFile(name);
}

void FaultInjectionEnv::Schedule(void (*function)(void*), void* arg) {
  {
    std::lock_guard lock(mutex_);
    if (hold_background_) {
      held_.emplace_back(function, arg);
      return;
    }
  }
  target()->Schedule(function, arg);
}

void FaultInjectionEnv::HoldBackgroundWork() {
  std::lock_guard lock(mutex_);
  hold_background_ = true;
}

void FaultInjectionEnv::ReleaseBackgroundWork() {
  std::vector<std::pair<void (*)(void*), void*>> held;
  {
    std::lock_guard lock(mutex_);
    hold_background_ = false;
    held.swap(held_);
  }
  for (const auto& [function, arg] : held) target()->Schedule(function, arg);
}

void FaultInjectionEnv::CutPower() {
  {
    std::lock_guard lock(mutex_);
    powered_ = false;
  }
  // A database closing waits for its background work; after the cut it writes nothing.
  ReleaseBackgroundWork();
}

absl::StatusOr<uint64_t> FaultInjectionEnv::RestorePower() {
  std::lock_guard lock(mutex_);
  uint64_t dropped = 0;
  for (const auto& [name, file] : files_) {
    std::error_code error;
    if (!std::filesystem::exists(name, error)) continue;
    uint64_t on_disk = std::filesystem::file_size(name, error);
    if (error) return absl::InternalError("size of " + name + ": " + error.message());
    if (!file.named) {
      dropped += on_disk;
      std::filesystem::remove(name, error);
      if (error) return absl::InternalError("remove " + name + ": " + error.message());
      continue;
    }
    if (on_disk > file.synced) {
      dropped += on_disk - file.synced;
      if (::truncate(name.c_str(), static_cast<off_t>(file.synced)) != 0) {
        return absl::InternalError("truncate " + name);
      }
    }
  }
  files_.clear();
  powered_ = true;
  return dropped;
}

}  // namespace lattice::testing
