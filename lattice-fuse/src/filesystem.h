// The file system lattice-fuse serves: every FUSE low-level operation answered from the Fs
// service of the kernel (inode numbers are the kernel's 64-bit ids, 1 the root; a file
// created here gets the id the kernel will give it before the kernel has it: creates.h),
// with writes buffered per inode (overlay.h) and committed as a new content version after
// close (flush and release queue it: write_back.h) and on fsync (inline, then Fs.Sync). Locks
// are left to the FUSE kernel module (local to this node); permissions to the kernel's
// `default_permissions` checks.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/v1/fs_service.pb.h"
#include "src/creates.h"
#include "src/dir_attrs.h"
#include "src/entry_inodes.h"
#include "src/kept_content.h"
#include "src/kernel_link.h"
#include "src/known_names.h"
#include "src/overlay.h"
#include "src/removals.h"
#include "src/watcher.h"
#include "src/write_back.h"

namespace lattice::fuse {

struct FsOptions {
  // How long the FUSE kernel module keeps attributes and names without asking. The watch
  // drops what another client changed as soon as it hears of it (watcher.h), so this bounds
  // only how stale a mount can be while its watch lags; short, every path a tool walks is
  // asked of the kernel again once it lapses (git status: 1,080 Lookups a run at 1 s).
  double attr_timeout_s = 30.0;
  double entry_timeout_s = 30.0;
  // Commits of closed files run on this many threads (write_back.h); 0 commits at close.
  int write_back_threads = 4;
  // Unlinks are answered at once and sent in batches (removals.h); false sends each one
  // before answering it.
  bool batch_unlinks = true;
  // The key this node signs with (Fs.Author): a new file in a directory whose names this
  // daemon knows is answered at once with an id minted from it, and its create sent with
  // its first content (creates.h). Empty: every create waits for the kernel.
  std::string author;
};

// What a sequential reader of a committed version fetched ahead of the FUSE kernel module's
// requests: one Fs.Read of up to kReadAheadMaxBytes serves many FUSE reads.
struct ReadAhead {
  std::string version;   // of the bytes below; empty: nothing held
  uint64_t epoch = 0;    // InodeState::epoch when fetched
  uint64_t offset = 0;
  std::string data;
  bool eof = false;      // data reaches the end of the version
  uint64_t next = 0;     // where a sequential reader reads next
  uint32_t window = 0;   // grows while reads stay sequential
  // The window after `data`, being fetched while the reader consumes `data`.
  std::future<absl::StatusOr<v1::FsReadResponse>> pending;
  uint64_t pending_offset = 0;
  uint32_t pending_length = 0;
};

// What lattice-fuse knows of one inode the FUSE kernel module holds.
struct InodeState {
  std::mutex mu;
  // Guarded by FileSystem::mu_.
  uint64_t nlookup = 0;
  int open = 0;
  // Guarded by mu.
  std::unique_ptr<Overlay> overlay;
  std::string cached_version;  // the content version the page cache holds, when known
  // The content version this daemon last stored into the page cache whole (StoreKept).
  std::string stored_version;
  bool orphan = false;         // its last name was removed while open: kept here until closed
  v1::FsStat last;             // the last attributes seen
  // This daemon's last commit of the inode: the version it replaced and the attributes it
  // answered. Attributes fetched before it was applied (it may run after close, on another
  // thread) still name the replaced version, and Shown shows the commit's instead.
  struct LastCommit {
    std::string replaced;
    v1::FsStat stat;
    bool set_attrs = false;  // it carried pending_attrs: its stat shows them
  };
  std::optional<LastCommit> last_commit;
  // Bumped (without mu) when another node changed the inode: what was read ahead is stale,
  // and so is cached_version when Invalidate could not take mu to clear it.
  std::atomic<uint64_t> epoch{0};
  uint64_t seen_epoch = 0;  // guarded by mu: the epoch cached_version was last checked at
  // Guards `ahead`; taken after mu, never held while taking mu.
  std::mutex read_mu;
  ReadAhead ahead;
  // Signalled (with mu held) when a streaming round of the overlay ends.
  std::condition_variable_any stream_done;
  // Guarded by mu: why the last commit after close failed (the writes stay unsaved); told
  // to the next flush or fsync of the file, which try again.
  absl::Status write_back_error;
  // Guarded by mu: what chmod, chown and utimes set while the overlay held unsaved writes
  // (cp -p, tar and rsync set them right after writing), sent with those writes' commit
  // instead of a SetAttr call each, and when they were set (the ctime shown meanwhile).
  std::optional<v1::FsAttrChange> pending_attrs;
  timespec pending_ctime{};
  // Guarded by mu: `last` is what the kernel answered at `exact_at`, asked for when epoch was
  // exact.epoch and FileSystem::exact_generation_ was exact.generation (FileSystem::NoteExact).
  // While neither moved, the kernel holds `last` with this daemon's unsaved writes and
  // pending attributes: nothing this daemon did, nor anything heard from elsewhere, changed it.
  struct ExactMark {
    uint64_t epoch = 0;
    uint64_t generation = 0;
    uint64_t changes = 0;
  };
  // Bumped when a change of this daemon moved the inode's attributes without giving them
  // (a rename: its ctime, or the links of the file it replaced).
  std::atomic<uint64_t> changes{0};
  std::optional<ExactMark> exact;
  std::chrono::steady_clock::time_point exact_at{};
};

class FileSystem {
 public:
  FileSystem(KernelLink* link, FsOptions options);
  ~FileSystem();
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  static const fuse_lowlevel_ops& Operations();
  void set_session(fuse_session* session) { session_ = session; }

  // Commits every file's unsaved writes (at unmount: files still open, and those closed
  // whose commit was queued). Returns how many could not be saved.
  int CommitAll();

  // Drops what the FUSE kernel module caches of what `change` touched (a change from
  // another node).
  void Invalidate(const v1::FsChange& change);

  // ---- the operations (public for the C callbacks) ----
  void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Forget(fuse_ino_t ino, uint64_t nlookup);
  void GetAttr(fuse_req_t req, fuse_ino_t ino);
  void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
               fuse_file_info* fi);
  // Keeps what `request` sets (but the size and mtime, which the overlay keeps) in
  // state.pending_attrs, for the commit of the overlay's writes. REQUIRES: state.mu held.
  void FoldIntoCommit(InodeState& state, const v1::FsSetAttrRequest& request);
  // Taken before asking the kernel for an inode's attributes, and given to NoteExact once
  // they are in state.last (REQUIRES: state.mu held there).
  InodeState::ExactMark MarkExact(const InodeState& state) const {
    return {state.epoch.load(), exact_generation_.load(), state.changes.load()};
  }
  // A change this daemon made moved the attributes of `inodes` (InodeState::changes): what
  // is kept of theirs is asked for again.
  void NoteAttrsChanged(const google::protobuf::RepeatedField<uint64_t>& inodes);
  void NoteExact(InodeState& state, InodeState::ExactMark mark);
  // Whether a GETATTR can be answered from state.last (InodeState::exact): for a file with
  // unsaved writes, while this daemon holds them; else for the attribute timeout, as the FUSE
  // kernel module would have kept them had it not dropped them (it does after every read,
  // for the atime, and after every write). REQUIRES: state.mu held.
  bool AnswersAttrs(const InodeState& state) const;
  // Whether state.last is what the kernel holds now, for an open (close-to-open) to use
  // without asking: nothing this daemon did or heard moved it since it was fetched, and the
  // watch has heard every change the kernel applied (Watcher::HeardAll), so no change
  // acknowledged before this call began is missing. REQUIRES: state.mu held.
  bool HeldAttrsCurrent(const InodeState& state) const;
  // Stores the content of state.cached_version, when this daemon committed it and keeps it
  // (kept_content_), into the FUSE kernel module's page cache: after a write that ended inside
  // a page, that page would otherwise be read again at the next open (git status after a
  // clone rereads every file it just wrote). Only while no descriptor of the inode is open
  // (none can write to the page cache or wait on one of its pages for this daemon) and the
  // open being answered keeps the cache. Returns the epoch the content was current at, or
  // nothing when none was stored. REQUIRES: state.mu held.
  std::optional<uint64_t> StoreKept(uint64_t ino, InodeState& state);
  // Answers the Lookup of `name` in `parent` without a call when the directory's names are
  // known here (KnownNames::Present) and name a regular file whose held attributes are
  // current (as GetAttr and Open answer them): the FUSE module looks up the target of every
  // rename again, so each sed -i or editor save asked the kernel about the file it replaces.
  bool LookupHere(fuse_req_t req, uint64_t parent, const std::string& name);
  // A rename through the kernel moved file `ino`, whose changes were counted `changes_before`
  // when it began, and stamped `stamped`: the attributes held of it stay exact, with that
  // ctime, when nothing else moved them (the next open of a file rsync renamed into place
  // asked the kernel for them again).
  void FollowMove(uint64_t ino, uint64_t changes_before, const v1::FsTime& stamped);
  // Nothing this daemon did or heard moved state.last since it was fetched (the first half
  // of AnswersAttrs). REQUIRES: state.mu held.
  bool HeldUnmoved(const InodeState& state) const;
  // Held attributes fetched before this are asked for again (the first watch started).
  void ForgetExactAttrs() { exact_generation_.fetch_add(1); }
  // What tells opens that nothing was missed (HeldAttrsCurrent); nullptr: opens always ask.
  void set_watcher(const Watcher* watcher) { watcher_.store(watcher); }
  // Held across a call that changes attributes the daemon does not hold the kernel's answer
  // for: an unlink (it names a name, not an inode), a link (nlink), an extended attribute
  // (ctime). (A rename is told which inodes it changed: NoteAttrsChanged.) No attributes
  // fetched before it ends are answered without asking the kernel: the generation moves
  // when it starts and again when it ends, for a fetch made meanwhile may predate the change.
  class ExactAttrsChange {
   public:
    explicit ExactAttrsChange(FileSystem& fs) : fs_(fs) { fs_.exact_generation_.fetch_add(1); }
    ~ExactAttrsChange() { fs_.exact_generation_.fetch_add(1); }
    ExactAttrsChange(const ExactAttrsChange&) = delete;
    ExactAttrsChange& operator=(const ExactAttrsChange&) = delete;

   private:
    FileSystem& fs_;
  };
  // Asks the kernel for `ino`'s attributes and keeps them as state.last, exact (NoteExact).
  // REQUIRES: state.mu held.
  absl::StatusOr<v1::FsStat> FetchLast(uint64_t ino, InodeState& state);
  void ReadLink(fuse_req_t req, fuse_ino_t ino);
  void MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev,
                const char* symlink_target, fuse_file_info* create_fi);
  void Remove(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir);
  void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
              const char* new_name, unsigned int flags);
  void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name);
  void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi);
  void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
  void FsyncDir(fuse_req_t req, fuse_ino_t ino);
  void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus);
  void StatFs(fuse_req_t req, fuse_ino_t ino);
  void SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                size_t size, int flags);
  void GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  void ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  void RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name);
  void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                 fuse_file_info* fi);

 private:
  // Answers `req` once everything this daemon had the kernel apply is durable (Fs.Sync).
  void SyncStore(fuse_req_t req);
  std::shared_ptr<InodeState> Find(uint64_t ino);
  std::shared_ptr<InodeState> Get(uint64_t ino);
  void MaybeDrop(uint64_t ino);

  void ReplyError(fuse_req_t req, const absl::Status& status);
  // Replies with `stat` as the entry `name` of `parent`.
  void ReplyEntry(fuse_req_t req, uint64_t parent, const std::string& name,
                  const v1::FsStat& stat);
  fuse_entry_param EntryOf(const v1::FsStat& stat) const;
  // The attributes as this daemon shows them: unsaved writes change size and times.
  v1::FsStat Shown(InodeState& state, v1::FsStat stat);
  absl::StatusOr<v1::FsStat> Stat(uint64_t ino);
  // Stat, after sending the unlinks queued here first when one of them may change what it
  // answers (MayMissRemovals): attributes the FUSE module keeps must not show a link count
  // from before an unlink it was told had happened.
  absl::StatusOr<v1::FsStat> StatSeeingRemovals(uint64_t ino);
  // The same for `stat`, an answer the kernel already gave about `ino` (a SetAttr's, a
  // Link's) to a call made after RemovalsMark returned `since`: asked again after the
  // unlinks are sent, and kept as it was if that fails.
  void RefreshSeeingRemovals(uint64_t ino, uint64_t since, v1::FsStat* stat);
  // The kernel's Lookup, after the same (the FUSE module keeps the attributes it answers).
  absl::Status LookupSeeingRemovals(uint64_t parent, const std::string& name,
                                    v1::FsEntryReply* reply);

  // Reads committed content (no overlay) for a FUSE read, through the inode's read-ahead.
  // `version`: the version the page cache holds (empty: the current one).
  void ReadCommitted(fuse_req_t req, uint64_t ino, InodeState& state, std::string version,
                     uint64_t epoch, size_t size, uint64_t offset);
  // Clears state.cached_version when another node changed the inode since it was last
  // checked. mu held.
  static void NoteRemoteChanges(InodeState& state);
  // One Fs.Read of `length` bytes at `offset` of `version` (empty: the current one).
  absl::StatusOr<v1::FsReadResponse> FetchCommitted(uint64_t ino, const std::string& version,
                                                    uint64_t offset, uint32_t length);
  absl::StatusOr<std::string> ReadBase(uint64_t ino, const std::string& version,
                                       uint64_t offset, uint32_t length);
  FetchBase Fetcher(uint64_t ino, const std::string& version);
  // The overlay of `state`, made on first use over the inode's current content. mu held.
  absl::StatusOr<Overlay*> OverlayOf(uint64_t ino, InodeState& state);
  // Commits the unsaved writes of `ino` as a new content version. state.mu held.
  absl::Status Commit(uint64_t ino, InodeState& state, v1::Durability durability);
  // The commit of the unsaved writes of `ino`, their new chunks uploaded or sent along;
  // nullopt when there is nothing to commit. state.mu held (until FinishCommit).
  absl::StatusOr<std::optional<v1::FsCommitRequest>> PrepareCommit(
      uint64_t ino, InodeState& state, v1::Durability durability);
  // Takes note of a commit the kernel made (`stat`: its answer) and drops the overlay.
  void FinishCommit(InodeState& state, const v1::FsStat& stat);
  // After close: queues the commit of a small file's unsaved writes (write_back.h), or
  // commits them now. state.mu held.
  absl::Status CommitAfterClose(uint64_t ino, InodeState& state, bool* queue);
  // The commits a write-back batch runs: every inode's prepared, then sent together
  // (CommitTogether), as many to a call as a CommitMany holds.
  struct QueuedCommit {
    uint64_t ino = 0;
    std::shared_ptr<InodeState> state;
    std::unique_lock<std::mutex> lock;  // of state->mu
    v1::FsCommitRequest request;
  };
  void CommitQueued(const std::vector<uint64_t>& inodes);
  // Sends `items`' commits in one call, with the creates in `creates` of their inodes.
  void CommitTogether(const std::vector<QueuedCommit*>& items,
                      std::map<uint64_t, PendingCreate>& creates);
  // Creates answered here (creates.h, filesystem_creates.cc). MakeNodeHere answers the
  // create of a new regular file or directory `name` in `parent` itself when it may
  // (creates on, the name known to be free), filling `reply` as the kernel would; false:
  // the caller asks the kernel.
  bool MakeNodeHere(uint64_t parent, const std::string& name, mode_t mode,
                    const fuse_ctx& context, v1::FsEntryReply* reply);
  // Answers the rename of (parent, name) to a name known to be free itself when the file's
  // create waits to be sent: the create is sent under the new name (a tool writing a
  // temporary file and renaming it into place, as rsync and git do, then waits for no
  // kernel call). False: the caller asks the kernel.
  // Over a file (sed -i, an editor's save: write a new file, rename it over the old one)
  // too, unless `flags` say RENAME_NOREPLACE: the create then unlinks the file it replaces
  // in its own intention (FsCreateRequest.replaces).
  bool RenameHere(uint64_t parent, const std::string& name, uint64_t new_parent,
                  const std::string& new_name, unsigned int flags);
  // Sends every create answered before the call, and returns once the kernel answered them
  // (and any other sender's): run before every other kernel call (KernelLink's hook).
  void SendPendingCreates();
  // Sends `creates` (taken from creates_), without content, as few calls as they need.
  void SendCreates(std::vector<PendingCreate> creates);
  // How the kernel answered the create of `create` (sent alone or with its commit): a name
  // taken meanwhile by another client is made again under a conflict name (the file is
  // kept, as between nodes); any other failure is logged. True when the file exists now.
  // Unhooked.
  bool SettleCreate(const PendingCreate& create, const absl::Status& status);
  // What this daemon keeps of a directory (its attributes, the names known to be free in it)
  // is stale after any change of it, made here or heard of: the two caches go together.
  void ForgetDir(uint64_t dir);
  void ForgetAllDirs();
  // Answers a READDIR of a directory whose names this daemon knows with their offsets
  // (KnownNames::ListAfter) once the watch has heard every change the kernel applied, so
  // none that could alter the listing is missing (as an open is answered: HeldAttrsCurrent).
  // A regular file comes with its attributes when they are held and current, any other
  // entry without (the FUSE module then looks it up when used). False: the caller asks the
  // kernel.
  bool ReadDirHere(fuse_req_t req, uint64_t ino, size_t size, off_t off, bool plus);
  // Puts entry `name` of directory `dir`, resuming after `next`, into a READDIR(PLUS) reply
  // after the `*used` bytes of `buffer`; false when it does not fit. For READDIRPLUS an entry
  // whose `param.ino` is set hands that inode to the FUSE module: it is counted looked up.
  bool AddDirEntry(fuse_req_t req, std::string& buffer, size_t* used, bool plus, uint64_t dir,
                   const std::string& name, const fuse_entry_param& param, off_t next);
  // Takes note of how a queued commit ended: a failure is kept for the file's next flush or
  // fsync; an inode gone meanwhile has nothing left to save. state.mu held.
  void SettleQueued(uint64_t ino, InodeState& state, const absl::Status& status);
  // Puts the new chunks of `built` into `request` when they are small enough to go along.
  bool SendAlong(const BuiltContent& built, const Overlay& overlay, v1::FsCommitRequest* request);
  // Uploads those of `chunks` the kernel lacks, their bytes from `bytes`.
  absl::Status Upload(const std::vector<NewChunk>& chunks,
                      const std::function<absl::StatusOr<std::string>(const NewChunk&)>& bytes);
  // Streaming (Overlay::ClaimStream): one thread cuts, hashes and uploads the final chunks
  // of files being written from their start while they are written.
  void QueueStream(uint64_t ino);
  void StreamLoop();
  void StreamRound(uint64_t ino);
  void UploadLoop();
  // Before the name (parent, name) goes away: when it is the last name of a file open here,
  // copies the file's content locally so it stays readable until closed. Returns its state.
  // (A file whose commit after close is still queued needs nothing: the kernel shows no
  // write its own node made after an unlink, so the late commit brings no name back.)
  std::shared_ptr<InodeState> KeepIfOpen(uint64_t parent, const std::string& name);
  // Unlinks answered here and sent in batches (removals.h, filesystem_removals.cc).
  // RemoveLater queues the unlink of (parent, name) and returns true when this daemon may
  // answer it itself: batching is on, the kernel took an unlink of this daemon before (a
  // mount whose token may not write answers every unlink with the kernel's refusal) and
  // has refused none of a batch since, and no file is open here (an open file's last name
  // needs KeepIfOpen first).
  bool RemoveLater(uint64_t parent, const std::string& name);
  // Sends one batch (Fs.RemoveMany); what it could not remove is logged, a removal that
  // did not fit the intention is sent again on its own.
  void SendRemovals(const std::vector<Removal>& batch);
  absl::Status RemoveNow(const Removal& removal);
  // Returns once the kernel shows as gone every name unlinked here before the call (all of
  // them, or only when (parent, name) is one of them).
  void AwaitRemovals();
  void AwaitRemovalOf(uint64_t parent, const std::string& name);
  // Whether `stat`, as the kernel answered it, may not show an unlink answered here yet: a
  // directory with a pending unlink in it (its times), or a file with other names, any of
  // which may be pending (its link count and ctime). The caller then awaits the removals and
  // asks again; a file with one name is answered at once, as its name is not pending (that
  // lookup is answered here) and its inode is open nowhere (RemoveLater). `since`: the
  // RemovalsMark taken before the call that answered `stat`, whose answer may also predate
  // an unlink sent while it was under way, no longer pending when it came back.
  bool MayMissRemovals(const v1::FsStat& stat, uint64_t since) const;
  // What MayMissRemovals compares with: taken before a kernel call whose answer it judges.
  uint64_t RemovalsMark() const;

  KernelLink* link_;
  FsOptions options_;
  std::unique_ptr<PendingCreates> creates_;  // null: creates wait for the kernel
  DirAttrCache dir_attrs_;
  KnownNames known_names_;
  // Listings read from their start and not yet to their end, by directory (ReadDir reads
  // them a buffer at a time): read whole, a listing makes the directory's names known.
  struct Listing {
    uint64_t next = 0;     // the offset the next part starts after
    uint64_t forgets = 0;  // KnownNames::forgets() when it started
    // The kernel said the listing ends at `next`: the call for the rest (the FUSE module
    // reads until a page comes back empty) is answered here, unless a change was heard
    // since (`forgets` moved). Names made after the listing began may be left out (POSIX).
    bool ended = false;
    std::optional<v1::FsStat> dir;
    std::vector<KnownNames::Listed> names;
  };
  static constexpr size_t kMaxListings = 64;
  static constexpr size_t kMaxListedNames = 100'000;  // a larger directory is not kept
  std::mutex listings_mu_;
  std::unordered_map<uint64_t, Listing> listings_;
  EntryInodes entry_inodes_;
  KeptContent kept_content_;
  fuse_session* session_ = nullptr;
  std::atomic<uint64_t> exact_generation_{0};
  std::atomic<const Watcher*> watcher_{nullptr};
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<InodeState>> inodes_;
  std::atomic<int> open_files_{0};

  std::mutex stream_mu_;
  std::condition_variable stream_wake_;
  std::deque<uint64_t> stream_queue_;        // guarded by stream_mu_
  std::unordered_set<uint64_t> stream_queued_;
  bool stream_stop_ = false;
  std::thread stream_thread_;  // started on the first round
  // A round cut and being uploaded.
  struct UploadJob {
    uint64_t ino = 0;
    std::shared_ptr<InodeState> state;
    StreamClaim claim;
    std::string data;  // the file's bytes from claim.begin
    std::vector<NewChunk> chunks;
  };
  std::condition_variable upload_wake_;
  std::deque<UploadJob> upload_queue_;  // guarded by stream_mu_
  std::thread upload_thread_;
  std::atomic<bool> removals_proven_{false};
  std::atomic<bool> removals_refused_{false};
  // Last: their threads call into the members above until they are stopped.
  std::unique_ptr<Removals> removals_;
  std::unique_ptr<WriteBack> write_back_;
};

}  // namespace lattice::fuse
