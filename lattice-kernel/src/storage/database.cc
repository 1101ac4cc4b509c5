#include "lattice/common/status.h"
#include "storage/database.h"

#include <fmt/format.h>
#include <leveldb/filter_policy.h>
#include <sys/statvfs.h>

#include <mutex>

#include "lattice/common/files.h"
#include "storage/durable_env.h"
#include "storage/leveldb_logger.h"
#include "storage/sealed_log_env.h"
#include "storage/leveldb_kv.h"

namespace lattice::kernel {
namespace {

// How long a look at the free space is trusted while this database's own writes stay well
// inside it: other processes filling the disk are noticed within this time.
constexpr std::chrono::milliseconds kFreeSpaceRecheck(100);

// A key past every key of every table (each begins with a table byte below 0xff).
const std::string kPastEveryKey(8, '\xff');

// Bytes the file system holding `dir` has free for this process, if it answers.
std::optional<uint64_t> AvailableBytes(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

// Bits of bloom filter per key in each table: ~1% false positives, as LevelDB advises.
constexpr int kBloomBitsPerKey = 10;

// Shared by every database of the process; LevelDB only reads it.
const leveldb::FilterPolicy* BloomFilter() {
  static const leveldb::FilterPolicy* policy = leveldb::NewBloomFilterPolicy(kBloomBitsPerKey);
  return policy;
}

}  // namespace

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message = fmt::format("{}: {}", context, s.ToString());
  if (message.find("No space left") != std::string::npos ||
      message.find("Disk quota") != std::string::npos) {
    return absl::ResourceExhaustedError(
        fmt::format("{}: the disk is full ({})", context, s.ToString()));
  }
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

Database::Database(std::string dir, size_t write_buffer_bytes, leveldb::Env* env)
    : dir_(std::move(dir)),
      write_buffer_bytes_(write_buffer_bytes),
      env_(std::make_unique<SealedLogEnv>(env != nullptr ? env : DurableEnv())) {}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& dir,
                                                        size_t write_buffer_bytes,
                                                        leveldb::Env* env) {
  if (auto s = MakeDirsDurable(dir); !s.ok()) return s;
  std::unique_ptr<Database> db(new Database(dir, write_buffer_bytes, env));
  if (auto s = db->OpenLocked(); !s.ok()) return s;
  return db;
}

Database::~Database() {
  std::lock_guard guard(compactor_mutex_);
  if (compactor_.joinable()) compactor_.join();
}

absl::Status Database::OpenLocked() {
  leveldb::Options options;
  options.create_if_missing = true;
  options.env = env_.get();
  options.write_buffer_size = write_buffer_bytes_;
  options.max_open_files = 256;
  // Most reads of a write look up keys that do not exist yet (a new key's heads, the next
  // author seq, the new sync index item); without filters each such miss reads a block of
  // every table that may hold the key.
  options.filter_policy = BloomFilter();
  // Into the kernel's log, not a LOG file in the directory: a repair at open must be seen.
  if (!info_log_) info_log_ = std::make_unique<LevelDbLogger>(DescribeDatabaseDir(dir_));
  options.info_log = info_log_.get();
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir_, &raw);
  if (!s.ok()) return FromLevelDb(s, "open database " + dir_);
  db_.reset(raw);
  needs_reopen_ = false;
  return absl::OkStatus();
}

absl::Status Database::FlushMemtable() {
  std::lock_guard write_lock(write_mutex_);
  std::shared_lock lock(mutex_);
  if (!db_ || needs_reopen_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  if (!unflushed_writes_) return absl::OkStatus();  // a flush would only start a new log
  // LevelDB has no flush call of its own. CompactRange writes the memtable out first, then
  // compacts only the tables that overlap its range, and none holds a key past every table
  // byte. A failure leaves the log in place, so nothing is lost; the next open replays it.
  leveldb::Slice past(kPastEveryKey);
  db_->CompactRange(&past, &past);
  unflushed_writes_ = false;
  return absl::OkStatus();
}

void Database::Compact(std::string_view start, std::string_view end) {
  leveldb::Slice begin(start.data(), start.size()), limit(end.data(), end.size());
  std::shared_lock lock(mutex_);
  if (db_) db_->CompactRange(start.empty() ? nullptr : &begin, end.empty() ? nullptr : &limit);
}

bool Database::CompactInBackground(std::string start, std::string end) {
  std::lock_guard guard(compactor_mutex_);
  if (compacting_.load()) return false;
  {
    std::shared_lock lock(mutex_);
    if (!db_) return false;
    leveldb::Range range(start, end.empty() ? leveldb::Slice(kPastEveryKey) : end);
    uint64_t range_bytes = 0;
    db_->GetApproximateSizes(&range, 1, &range_bytes);
    std::optional<uint64_t> available = AvailableBytes(dir_);
    if (available.has_value() && *available < min_free_bytes_ + 2 * range_bytes) return false;
  }
  if (compactor_.joinable()) compactor_.join();  // done: compacting_ is false
  compacting_.store(true);
  compactor_ = std::thread([this, start = std::move(start), end = std::move(end)] {
    Compact(start, end);
    background_compactions_.fetch_add(1);
    compacting_.store(false);
  });
  return true;
}

absl::StatusOr<std::optional<std::string>> Database::Get(std::string_view key) const {
  std::shared_lock lock(mutex_);
  if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()),
                               &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromLevelDb(s, "read " + dir_);
  return std::optional<std::string>(std::move(value));
}

absl::Status Database::GetSorted(std::span<const std::string_view> sorted,
                                 const SortedVisitor& found) const {
  // Steps tried before a Seek (a step costs a fraction of one), and the Seeks after which
  // the walk is judged: while it has sought for more than one key in kKeysPerSeek, keys are
  // read with Get. The iterator stays where it was meanwhile: at the first key at or after
  // an earlier key, which is all the walk needs when it goes on.
  constexpr int kStepsBeforeSeek = 8;
  constexpr size_t kSeeksBeforeJudging = 4;
  constexpr size_t kKeysPerSeek = 4;
  std::shared_lock lock(mutex_);
  if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  std::unique_ptr<leveldb::Iterator> it;
  size_t seeks = 0;
  std::string value;
  for (size_t i = 0; i < sorted.size(); ++i) {
    leveldb::Slice key(sorted[i].data(), sorted[i].size());
    const bool walking = seeks < kSeeksBeforeJudging || seeks * kKeysPerSeek <= i;
    if (!walking) {
      leveldb::Status s = db_->Get(leveldb::ReadOptions(), key, &value);
      if (s.IsNotFound()) {
        found(i, std::nullopt);
        continue;
      }
      if (!s.ok()) return FromLevelDb(s, "read " + dir_);
      found(i, value);
      continue;
    }
    if (it == nullptr) {
      it.reset(db_->NewIterator(leveldb::ReadOptions()));
      it->Seek(key);
      ++seeks;
    } else {
      // `it` is at the first key at or after the previous one, so at the first at or after
      // this one once it is no longer below it.
      for (int step = 0; step < kStepsBeforeSeek && it->Valid() && it->key().compare(key) < 0;
           ++step) {
        it->Next();
      }
      if (it->Valid() && it->key().compare(key) < 0) {
        it->Seek(key);
        ++seeks;
      }
    }
    if (!it->status().ok()) return FromLevelDb(it->status(), "read " + dir_);
    if (it->Valid() && it->key() == key) {
      found(i, std::string_view(it->value().data(), it->value().size()));
    } else {
      found(i, std::nullopt);
    }
  }
  return absl::OkStatus();
}

absl::Status Database::Scan(std::string_view start, std::string_view end,
                            const Visitor& visit) const {
  std::shared_lock lock(mutex_);
  if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(leveldb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!end.empty() && key >= end) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromLevelDb(it->status(), "scan " + dir_);
}

absl::Status Database::ScanReverse(std::string_view start, std::string_view end,
                                   const Visitor& visit) const {
  std::shared_lock lock(mutex_);
  if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  if (end.empty()) {
    it->SeekToLast();
  } else {
    it->Seek(leveldb::Slice(end.data(), end.size()));
    if (it->Valid()) it->Prev(); else it->SeekToLast();
  }
  for (; it->Valid(); it->Prev()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key < start) break;
    if (!end.empty() && key >= end) continue;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromLevelDb(it->status(), "scan " + dir_);
}

namespace {

// Holds the database's shared lock for as long as the snapshot lives, so a reopen cannot
// free the LevelDB instance under it.
class PinnedReader : public KvReader {
 public:
  PinnedReader(std::shared_lock<std::shared_mutex> lock, leveldb::DB* db)
      : lock_(std::move(lock)), kv_(LevelDbKv::Pinned(db)) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override {
    return kv_->Get(key);
  }
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override {
    return kv_->Scan(start, end, visit);
  }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  std::unique_ptr<LevelDbKv> kv_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvReader>> Database::Pin() const {
  std::shared_lock lock(mutex_);
  if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
  leveldb::DB* db = db_.get();
  return std::make_unique<PinnedReader>(std::move(lock), db);
}

absl::Status Database::CheckFreeSpace(uint64_t bytes) {
  if (min_free_bytes_ == 0) return absl::OkStatus();
  auto now = std::chrono::steady_clock::now();
  uint64_t room = available_at_check_ > min_free_bytes_ ? available_at_check_ - min_free_bytes_ : 0;
  written_since_check_ += bytes;
  if (now - checked_at_ < kFreeSpaceRecheck && !needs_reopen_ && written_since_check_ < room / 2) {
    return absl::OkStatus();
  }
  std::optional<uint64_t> available = AvailableBytes(dir_);
  if (!available.has_value()) return absl::OkStatus();
  available_at_check_ = *available;
  written_since_check_ = bytes;
  checked_at_ = now;
  if (available_at_check_ < min_free_bytes_) {
    return absl::ResourceExhaustedError(fmt::format(
        "the disk holding {} is full: {} bytes free, writes need at least {}", dir_,
        available_at_check_, min_free_bytes_));
  }
  return absl::OkStatus();
}

absl::Status Database::ReopenLocked() {
  std::unique_lock lock(mutex_);
  db_.reset();
  return OpenLocked();
}

absl::Status Database::ReopenAfterFailure() {
  std::lock_guard write_lock(write_mutex_);
  if (!needs_reopen_) return absl::OkStatus();
  return ReopenLocked();
}

absl::Status Database::Write(leveldb::WriteBatch* batch, bool sync) {
  std::lock_guard write_lock(write_mutex_);
  if (auto s = CheckFreeSpace(batch->ApproximateSize()); !s.ok()) return s;
  if (needs_reopen_) LATTICE_RETURN_IF_ERROR(ReopenLocked());
  leveldb::WriteOptions options;
  options.sync = sync;
  leveldb::Status s;
  {
    std::shared_lock lock(mutex_);
    if (!db_) return absl::UnavailableError("database " + dir_ + " is closed after an error");
    s = db_->Write(options, batch);
  }
  if (!s.ok()) {
    needs_reopen_ = true;
    return FromLevelDb(s, "write " + dir_);
  }
  unflushed_writes_ = true;
  return absl::OkStatus();
}

}  // namespace lattice::kernel
