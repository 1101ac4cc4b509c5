// FileSystem: directory listings and the file system's statistics.
#include "src/filesystem.h"

#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "src/attrs.h"
#include "src/filesystem_tuning.h"

namespace lattice::fuse {

using v1::Fs;

void FileSystem::ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  if (ReadDirHere(req, ino, size, off, plus)) return;
  AwaitRemovals();  // the kernel lists no name unlinked here
  std::string buffer(size, '\0');
  size_t used = 0;
  uint64_t offset = static_cast<uint64_t>(off);
  bool full = false;
  // A listing read whole from its start, every page showing the directory with the same
  // times, is all its names: then the mount knows them (known_names.h), as for a directory
  // it made, and answers lookups of new names and creates in it itself. Its parts come in
  // calls of their own, each resuming where the last ended.
  Listing listing;
  const uint64_t forgets = known_names_.forgets();
  bool tracked = off == 0;
  if (tracked) {
    listing.forgets = forgets;
  } else {
    std::lock_guard lock(listings_mu_);
    auto it = listings_.find(ino);
    bool known_end = false;
    if (it != listings_.end() && it->second.next == static_cast<uint64_t>(off)) {
      known_end = it->second.ended && it->second.forgets == forgets;
      if (!it->second.ended) {
        listing = std::move(it->second);
        tracked = true;
      }
    }
    if (it != listings_.end()) listings_.erase(it);
    if (known_end) {
      fuse_reply_buf(req, nullptr, 0);
      return;
    }
  }
  bool ended = false;
  while (!full) {
    v1::FsReadDirRequest request;
    request.set_store(link_->store());
    request.set_ino(ino);
    request.set_offset(offset);
    request.set_max_entries(static_cast<uint32_t>(
        std::clamp<size_t>(size / (plus ? 128 : 32) + 1, 1, limits::kMaxFsReadDirEntries)));
    request.set_plus(plus);
    v1::FsReadDirResponse reply;
    absl::Status status = link_->Call("ReadDir", &Fs::Stub::ReadDir, request, &reply);
    if (!status.ok()) {
      if (used > 0) break;
      ReplyError(req, status);
      return;
    }
    if (tracked && !reply.has_dir()) {
      tracked = false;
    } else if (tracked && !listing.dir) {
      listing.dir = reply.dir();
    } else if (tracked && (!SameTime(listing.dir->attr().mtime(), reply.dir().attr().mtime()) ||
                           !SameTime(listing.dir->attr().ctime(), reply.dir().attr().ctime()))) {
      tracked = false;  // its entries changed between pages
    }
    for (const v1::FsDirEntry& entry : reply.entries()) {
      fuse_entry_param param{};
      param.attr.st_ino = entry.ino();
      param.attr.st_mode = entry.mode();
      if (plus) {
        v1::FsStat stat = entry.stat();
        if (stat.ino() == 0) {
          stat.set_ino(entry.ino());
          stat.mutable_attr()->set_mode(entry.mode());
        }
        auto state = Get(stat.ino());
        std::lock_guard lock(state->mu);
        param = EntryOf(Shown(*state, stat));
      }
      if (!AddDirEntry(req, buffer, &used, plus, ino, entry.name(), param,
                       static_cast<off_t>(entry.offset()))) {
        full = true;
        if (plus) MaybeDrop(param.ino);
        break;
      }
      offset = entry.offset();
      if (tracked && listing.names.size() >= kMaxListedNames) tracked = false;
      if (tracked) {
        listing.names.push_back(
            {entry.name(), {entry.ino(), entry.mode() & S_IFMT, entry.offset()}});
      }
    }
    ended = !full && reply.end();
    if (reply.end() || reply.entries_size() == 0) break;
  }
  if (tracked && ended && listing.dir) {
    known_names_.NoteListed(*listing.dir, listing.names, listing.forgets);
  }
  if (ended || (tracked && full)) {
    if (ended) {
      listing = Listing{};
      listing.forgets = forgets;
      listing.ended = true;
    }
    listing.next = offset;
    std::lock_guard lock(listings_mu_);
    if (listings_.size() >= kMaxListings) listings_.clear();
    listings_[ino] = std::move(listing);
  }
  fuse_reply_buf(req, buffer.data(), used);
}

bool FileSystem::AddDirEntry(fuse_req_t req, std::string& buffer, size_t* used, bool plus,
                             uint64_t dir, const std::string& name,
                             const fuse_entry_param& param, off_t next) {
  const size_t room = buffer.size() - *used;
  const size_t added =
      plus ? fuse_add_direntry_plus(req, buffer.data() + *used, room, name.c_str(), &param, next)
           : fuse_add_direntry(req, buffer.data() + *used, room, name.c_str(), &param.attr, next);
  if (added > room) return false;
  *used += added;
  if (plus && param.ino != 0) {
    entry_inodes_.Note(dir, name, param.ino, S_ISDIR(param.attr.st_mode));
    auto state = Get(param.ino);  // the same state, unless it was dropped meanwhile
    std::lock_guard lock(mu_);
    state->nlookup++;
  }
  return true;
}

bool FileSystem::ReadDirHere(fuse_req_t req, uint64_t ino, size_t size, off_t off, bool plus) {
  const Watcher* watcher = watcher_.load();
  // The watch first: a change it handed on forgot the directory before its cursor moved.
  if (watcher == nullptr || !watcher->HeardAll()) return false;
  std::vector<KnownNames::Listed> names;
  if (!known_names_.ListAfter(ino, static_cast<uint64_t>(off), kMaxNamesListedHere, &names)) {
    return false;
  }
  std::string buffer(size, '\0');
  size_t used = 0;
  size_t given = 0;
  for (const KnownNames::Listed& listed : names) {
    const KnownNames::Entry& entry = listed.entry;
    // Without attributes (ino 0) the FUSE module takes the name only. A regular file's are
    // given, as GetAttr answers them: a directory's times and links follow the creates in
    // it, which its held attributes do not.
    fuse_entry_param param{};
    param.attr.st_ino = entry.ino;
    param.attr.st_mode = entry.type;
    std::shared_ptr<InodeState> state = plus && S_ISREG(entry.type) ? Find(entry.ino) : nullptr;
    if (state) {
      std::lock_guard lock(state->mu);
      if (S_ISREG(state->last.attr().mode()) && HeldAttrsCurrent(*state)) {
        param = EntryOf(Shown(*state, state->last));
      }
    }
    if (!AddDirEntry(req, buffer, &used, plus, ino, listed.name, param,
                     static_cast<off_t>(entry.offset))) {
      break;
    }
    ++given;
  }
  spdlog::trace("readdir {} after {}: {} of {} names, answered here", ino, off, given,
                names.size());
  fuse_reply_buf(req, buffer.data(), used);
  return true;
}

void FileSystem::StatFs(fuse_req_t req, fuse_ino_t /*ino*/) {
  v1::FsStatFsRequest request;
  request.set_store(link_->store());
  v1::FsStatFsResponse reply;
  absl::Status status = link_->Call("StatFs", &Fs::Stub::StatFs, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  struct statvfs out {};
  out.f_bsize = reply.block_size() ? reply.block_size() : 4096;
  out.f_frsize = out.f_bsize;
  out.f_blocks = reply.blocks();
  out.f_bfree = reply.blocks_free();
  out.f_bavail = reply.blocks_available();
  out.f_files = reply.files();
  out.f_ffree = reply.files_free();
  out.f_favail = reply.files_free();
  out.f_namemax = reply.name_max() ? reply.name_max() : limits::kMaxFsNameBytes;
  fuse_reply_statfs(req, &out);
}

}  // namespace lattice::fuse
