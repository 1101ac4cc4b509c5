// A LevelDB Env wrapper that makes a write-ahead log durable when LevelDB is done with it.
//
// Writes acknowledged once applied are written with sync=false. When the memtable fills,
// LevelDB starts a new log and closes the old one without syncing it; a later synced write
// syncs only the new log. Without this wrapper a power loss could then keep the later
// writes and lose earlier ones that a sync barrier had covered. Here a log is synced when it
// is closed (or destroyed unclosed, as LevelDB does), before LevelDB writes to its successor.
#pragma once

#include <leveldb/env.h>

#include <string>

namespace lattice::kernel {

// True for LevelDB's write-ahead logs (NNNNNN.log), not its text LOG or other files.
bool IsWriteAheadLog(const std::string& name);

// Thread-safe as its base is. Does not own `base`, which must outlive it.
class SealedLogEnv final : public leveldb::EnvWrapper {
 public:
  explicit SealedLogEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override;
};

}  // namespace lattice::kernel
