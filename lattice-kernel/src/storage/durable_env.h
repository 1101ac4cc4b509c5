// A LevelDB Env that makes new files durable by name, not only by content: the first Sync of
// a new file also fsyncs its directory, and a rename fsyncs the directory after it. Without
// this a power loss could drop a freshly created write-ahead log whose records were acked.
// Write-ahead logs are PreparedLogFiles, so a synced write is one device flush, not two.
#pragma once

#include <leveldb/env.h>

namespace lattice::kernel {

// The process-wide instance, wrapping leveldb::Env::Default(). Never destroyed.
leveldb::Env* DurableEnv();

}  // namespace lattice::kernel
