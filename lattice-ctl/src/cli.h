// The command line of lattice-ctl: every command and option, parsed into one plain struct
// that the commands read. Parsing never talks to the kernel.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace lattice::ctl {

enum class Command {
  kNone,
  kStatus,
  kMetrics,
  kStoreCreate,
  kStoreList,
  kStoreArchive,
  kStoreUnarchive,
  kStoreStatus,
  kStoreSync,
  kKvPut,
  kKvGet,
  kKvDel,
  kKvScan,
  kKvInspect,
  kKvBatch,
  kKvSync,
  kKvWatch,
  kChatPost,
  kChatHistory,
  kChatTopic,
  kChatChannels,
  kChatWatch,
  kTokenCreate,
  kTokenList,
  kTokenRevoke,
  kDebugVerify,
  kDebugIngest,
  kDebugForks,
  kDebugFloating,
  kPeerInvite,
  kPeerJoin,
  kPeerList,
  kPeerRevoke,
  kPeerRename,
  kServiceList,
  kServiceDeclare,
  kServiceUndeclare,
  kServiceConsent,
  kServiceOverride,
  kServiceStart,
  kServiceStop,
  kServiceReset,
  kNodeTagAdd,
  kNodeTagRemove,
  kFsLs,
  kFsStat,
  kFsCat,
  kFsPut,
  kFsGet,
  kFsMkdir,
  kFsRm,
  kFsMv,
  kFsConflicts,
  kFsHistory,
  kFsRestore,
};

struct GlobalOptions {
  std::string socket;  // empty: the default socket
  std::string token;   // empty: $LATTICE_TOKEN, else the admin cookie
  bool json = false;
};

// Everything any command takes; each command reads only its own fields.
struct Arguments {
  GlobalOptions global;
  Command command = Command::kNone;

  std::string store;
  std::string name;    // store create, token create, peer join --name, peer rename
  std::string type;    // store create
  bool all = false;    // store list, token list

  std::string key;
  std::string value;   // kv put; "-" reads stdin
  std::string prefix;  // kv scan, kv watch
  std::vector<std::string> ops;  // kv batch
  bool no_sync = false;          // kv put, del, batch: acknowledged once applied
  std::optional<uint64_t> from;  // kv/chat watch: resume after this cursor
  uint64_t count = 0;            // kv/chat watch: stop after N events; 0 = never
  uint64_t limit = 0;            // kv scan, chat history; 0 = the kernel's default

  std::string channel;
  std::string text;
  std::optional<std::string> topic;  // chat topic: set when given, shown when absent
  std::string sender;
  bool action = false;
  std::string before;  // chat history page token

  std::vector<std::string> stores;    // token create --store
  std::vector<std::string> prefixes;  // token create --prefix
  std::vector<std::string> keys;      // token create --key and --channel: exact matches
  bool allow_root_store = false;      // token create --allow-root-store
  std::string rights;                 // token create --rights
  std::string ttl;                    // token create --ttl, peer invite --ttl
  std::string id;                     // token revoke

  std::string mesh;     // peer invite, list, revoke, rename: --mesh (empty: the default)
  std::string node;     // peer revoke, rename: NODE; peer invite --readmit; store sync --peer
  std::string invite;   // peer join: the TOKEN printed by peer invite
  std::string timeout;  // peer join, store sync: --timeout DURATION
  bool wait = false;    // store sync --wait

  std::string file;  // debug ingest; "-" reads stdin

  std::string service;               // service ...: ID
  std::string policy;                // service declare --policy Global|TaggedNodes:TAG
  bool local = false;                // service declare/undeclare --local
  std::vector<std::string> sets;     // service declare --set KEY=VALUE
  std::string consent;               // service consent: manual|follow-mesh|always|block
  std::string assignment;            // service override: KEY=VALUE
  std::string clear;                 // service override --clear KEY
  std::string tag;                   // node tag add|remove TAG

  std::string path;                  // fs ...: PATH in the store ("/a/b"); fs mv: FROM
  std::string to;                    // fs mv: TO
  std::string local_file;            // fs put: FILE ("-" or empty: stdin); fs get: FILE
  std::string version;               // fs restore: VERSION (a unique hex prefix)
  std::optional<std::string> mode;   // fs put --mode (octal)
  bool long_listing = false;         // fs ls -l
  bool parents = false;              // fs mkdir -p
  bool force = false;                // fs get --force
};

// Parses argv into `args`. Returns nullopt when a command should run; otherwise the process
// exit code, after writing help or version to `out` (0) or one usage-error line to `err` (2).
std::optional<int> ParseCommandLine(int argc, const char* const* argv, Arguments* args,
                                    std::ostream& out, std::ostream& err);

}  // namespace lattice::ctl
