// A LevelDB Env for power-loss tests, after LevelDB's own fault_injection_test: it remembers,
// for every file written through it, how much was synced, and a power cut throws away the
// rest. Files created and never synced vanish; a synced file keeps what its last Sync
// covered. Renames and removals are taken as durable when done, as DurableEnv makes them.
//
// Use: run a database on it, CutPower() (from then on nothing reaches the disk, though every
// call succeeds, as when a machine loses power mid-write), close the database, then
// RestorePower() drops what was not synced; reopen and check.
//
// Thread-safe. Sync only flushes to the OS: the model, not the device, decides what a power
// cut keeps, so tests stay fast.
#pragma once

#include <leveldb/env.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lattice::testing {

class FaultInjectionEnv final : public leveldb::EnvWrapper {
 public:
  FaultInjectionEnv();

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override;
  leveldb::Status RenameFile(const std::string& from, const std::string& to) override;
  leveldb::Status RemoveFile(const std::string& name) override;
  // LevelDB's background work (memtable flushes, compactions) waits while held, so a test
  // can keep a sealed log from being written out as a table before a cut. Releasing it, or
  // cutting the power, lets the held work run.
  void Schedule(void (*function)(void*), void* arg) override;
  void HoldBackgroundWork();
  void ReleaseBackgroundWork();

  // From now on appends, syncs, renames and removals are dropped (and reported done).
  void CutPower();
  // Truncates every file to what was synced before the cut and deletes the files created
  // and never synced since; then the file system works again. The databases on it must be
  // closed. Returns how many bytes were dropped.
  absl::StatusOr<uint64_t> RestorePower();

  // For the files' bookkeeping.
  struct FileState {
    uint64_t size = 0;     // bytes appended while the power was on
    uint64_t synced = 0;   // of which the last Sync covered this many
    bool named = false;    // synced at least once since created: its name survives
  };
  bool powered() const;
  // Syncs of write-ahead logs (NNNNNN.log) since the env was made: what a write's fsync is.
  uint64_t log_syncs() const;
  // The control of a power-cut test: syncs of write-ahead logs are reported done but keep
  // nothing, as if the writer had dropped its fsync. A test of durability must fail so.
  void IgnoreLogSyncs(bool ignore);
  void Appended(const std::string& name, uint64_t bytes);
  void Synced(const std::string& name);

 private:
  mutable std::mutex mutex_;
  bool powered_ = true;
  bool hold_background_ = false;
  uint64_t log_syncs_ = 0;
  bool ignore_log_syncs_ = false;
  std::map<std::string, FileState> files_;  // written since the last RestorePower
  std::vector<std::pair<void (*)(void*), void*>> held_;
};

}  // namespace lattice::testing
