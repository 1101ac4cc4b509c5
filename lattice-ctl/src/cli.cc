#include "cli.h"

#include <algorithm>
#include <ostream>
#include <string_view>
#include <tuple>

#include <CLI/CLI.hpp>

#include "errors.h"
#include "lattice/client.h"
#include "lattice/client/credentials.h"

namespace lattice::ctl {
namespace {

constexpr char kDescription[] =
    "Operate a Lattice kernel through its local socket.\n"
    "STORE is a store's name or id; NODE is a node id, a unique prefix of at least 8 of its\n"
    "hex digits, or a peer's name. DURATION is 90s, 15m, 12h, 30d, 2w or plain seconds.\n"
    "Output is for people unless --json is given.";

// Counts and cursors are unsigned, and CLI11 would read "-1" as 2^64-1 (strtoull): refuse it.
const CLI::Validator kNotNegative(
    [](std::string& text) -> std::string {
      if (!text.empty() && text.front() == '-') return "must not be negative, got " + text;
      return {};
    },
    "", "not negative");

// Adds a subcommand whose callback records which command was chosen.
CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& help,
                     Command command, Arguments* args) {
  CLI::App* sub = parent->add_subcommand(name, help);
  sub->callback([args, command] { args->command = command; });
  return sub;
}

void AddStore(CLI::App* sub, Arguments* args) {
  sub->add_option("STORE", args->store, "store name or id")->required();
}

void AddMesh(CLI::App* sub, Arguments* args, const std::string& help) {
  sub->add_option("--mesh", args->mesh, help);
}

void AddTimeout(CLI::App* sub, Arguments* args, const std::string& help) {
  sub->add_option("--timeout", args->timeout, help);
}

void BuildStoreCommands(CLI::App* app, Arguments* args) {
  CLI::App* store =
      app->add_subcommand("store", "create, list, archive, inspect and synchronise stores");
  store->require_subcommand(1);

  CLI::App* create =
      AddCommand(store, "create", "create a store and print its id", Command::kStoreCreate, args);
  create->add_option("NAME", args->name, "name of the new store")->required();
  create->add_option("--type", args->type, "kv, chat or fs")
      ->required()
      ->check(CLI::IsMember({"kv", "chat", "fs"}));

  CLI::App* list = AddCommand(store, "list", "list stores", Command::kStoreList, args);
  list->add_flag("--all,-a", args->all, "include archived stores");

  AddStore(AddCommand(store, "archive", "archive a store", Command::kStoreArchive, args), args);
  AddStore(AddCommand(store, "unarchive", "make an archived store active again",
                      Command::kStoreUnarchive, args),
           args);

  AddStore(AddCommand(store, "status",
                      "counts, hashes and each peer's sync state (connected, lag, errors)",
                      Command::kStoreStatus, args),
           args);

  CLI::App* sync = AddCommand(
      store, "sync", "reconcile with peers now (exit 1 when any peer's result is not ok)",
      Command::kStoreSync, args);
  AddStore(sync, args);
  sync->add_option("--peer", args->node, "only this peer (default: every connected peer)");
  // Required, checked when the request is built (with a better message than the parser's).
  sync->add_flag("--wait", args->wait, "wait for the result (required: the only mode there is)");
  AddTimeout(sync, args, "give up on a peer after DURATION (default: the kernel's, 30s)");
}

void BuildPeerCommands(CLI::App* app, Arguments* args) {
  CLI::App* peer = app->add_subcommand("peer", "invite, join, list, revoke and rename peers");
  peer->require_subcommand(1);

  CLI::App* invite = AddCommand(
      peer, "invite",
      "create a single-use invite; only its token goes to stdout",
      Command::kPeerInvite, args);
  AddMesh(invite, args, "invite into this mesh (its root store; default: this node's own)");
  invite->add_option("--ttl", args->ttl, "expire after DURATION (default: the kernel's, 24h)");
  invite->add_option("--readmit", args->node,
                     "re-admit NODE, revoked from the mesh: only NODE can use this invite (a "
                     "revoked node is refused with any other)");

  CLI::App* join = AddCommand(peer, "join", "join the mesh of an invite TOKEN",
                              Command::kPeerJoin, args);
  join->add_option("TOKEN", args->invite, "the token printed by peer invite")->required();
  join->add_option("--name", args->name,
                   "this node's name in the joined mesh (default: its own name)");
  AddTimeout(join, args, "how long to try to reach the inviter (default: the kernel's, 30s)");

  CLI::App* list = AddCommand(peer, "list", "list peers, this node included",
                              Command::kPeerList, args);
  AddMesh(list, args, "only this mesh (default: every mesh of this node)");

  CLI::App* revoke = AddCommand(peer, "revoke",
                                "revoke NODE: every node drops it and refuses its new writes",
                                Command::kPeerRevoke, args);
  revoke->add_option("NODE", args->node)->required();
  AddMesh(revoke, args, "only in this mesh (default: every mesh that knows NODE)");

  CLI::App* rename = AddCommand(
      peer, "rename",
      "set this node's name as NODE (this node's id or name); only a node names itself",
      Command::kPeerRename, args);
  rename->add_option("NODE", args->node)->required();
  rename->add_option("NAME", args->name, "the new name")->required();
  AddMesh(rename, args, "only in this mesh (default: every mesh that knows NODE)");
}

void BuildServiceCommands(CLI::App* app, Arguments* args) {
  CLI::App* service = app->add_subcommand(
      "service", "daemons declared by meshes and run with this node's consent");
  service->require_subcommand(1);
  const std::string mesh_help = "only this mesh (its root store or any store of it)";

  CLI::App* list = AddCommand(service, "list",
                              "descriptors, declarations, consent, this node's instances and where "
                              "each mesh runs what",
                              Command::kServiceList, args);
  AddMesh(list, args, mesh_help + " (default: every mesh of this node)");

  CLI::App* declare = AddCommand(
      service, "declare",
      "declare service ID for STORE in its mesh (--policy) or on this node only (--local)",
      Command::kServiceDeclare, args);
  declare->add_option("ID", args->service, "service id, e.g. lattice.irc-gateway")->required();
  declare->add_option("--store", args->store, "the store it serves")->required();
  declare->add_option("--policy", args->policy, "Global or TaggedNodes:TAG");
  declare->add_flag("--local", args->local, "LocalOnly: in this node's database, never replicated");
  declare->add_option("--set", args->sets, "a setting KEY=VALUE (repeatable)")->allow_extra_args(false);

  CLI::App* undeclare = AddCommand(service, "undeclare", "withdraw the declaration of ID for STORE",
                                   Command::kServiceUndeclare, args);
  undeclare->add_option("ID", args->service)->required();
  undeclare->add_option("--store", args->store, "the store it served")->required();
  undeclare->add_flag("--local", args->local, "the local declaration");

  CLI::App* consent = AddCommand(
      service, "consent",
      "whether this node follows a mesh's declarations of ID: manual (nothing runs), "
      "follow-mesh, always, block",
      Command::kServiceConsent, args);
  consent->add_option("ID", args->service)->required();
  consent->add_option("CONSENT", args->consent)
      ->required()
      ->check(CLI::IsMember({"manual", "follow-mesh", "always", "block"}));
  AddMesh(consent, args, "the mesh (default: this node's own)");

  CLI::App* override_ = AddCommand(service, "override",
                                   "set (KEY=VALUE) or --clear a local setting of ID for STORE; "
                                   "it wins over the mesh's",
                                   Command::kServiceOverride, args);
  override_->add_option("ID", args->service)->required();
  override_->add_option("--store", args->store, "the instance's store")->required();
  override_->add_option("ASSIGNMENT", args->assignment, "KEY=VALUE");
  override_->add_option("--clear", args->clear, "remove the override of KEY");

  for (auto [name, command, help] :
       {std::tuple{"start", Command::kServiceStart, "run ID for STORE on this node (any consent but block)"},
        std::tuple{"stop", Command::kServiceStop, "stop ID for STORE and keep it stopped"},
        std::tuple{"reset", Command::kServiceReset,
                   "forget failures and explicit start/stop of ID for STORE"}}) {
    CLI::App* sub = AddCommand(service, name, help, command, args);
    sub->add_option("ID", args->service)->required();
    sub->add_option("--store", args->store, "the instance's store")->required();
  }
}

void BuildNodeCommands(CLI::App* app, Arguments* args) {
  CLI::App* node = app->add_subcommand("node", "this node's own settings in a mesh");
  node->require_subcommand(1);
  CLI::App* tag = node->add_subcommand("tag", "this node's tags (for TaggedNodes policies)");
  tag->require_subcommand(1);
  CLI::App* add = AddCommand(tag, "add", "add TAG", Command::kNodeTagAdd, args);
  add->add_option("TAG", args->tag)->required();
  AddMesh(add, args, "in this mesh (default: this node's own)");
  CLI::App* remove = AddCommand(tag, "remove", "remove TAG", Command::kNodeTagRemove, args);
  remove->add_option("TAG", args->tag)->required();
  AddMesh(remove, args, "in this mesh (default: this node's own)");
}

void AddWatchOptions(CLI::App* sub, Arguments* args) {
  sub->add_option("--from", args->from,
                  "deliver events after this cursor (0 = from the beginning); "
                  "default: only new events")
      ->check(kNotNegative);
  sub->add_option("--count", args->count, "exit after N events")->check(kNotNegative);
}

void AddNoSync(CLI::App* sub, Arguments* args) {
  sub->add_flag("--no-sync", args->no_sync,
                "return once the write is applied (readable by all), not yet durable: the "
                "kernel syncs it within a second, or at the next kv sync");
}

void BuildKvCommands(CLI::App* app, Arguments* args) {
  CLI::App* kv = app->add_subcommand("kv", "read and write key-value stores");
  kv->require_subcommand(1);

  CLI::App* put = AddCommand(kv, "put", "set KEY to VALUE", Command::kKvPut, args);
  AddStore(put, args);
  put->add_option("KEY", args->key)->required();
  put->add_option("VALUE", args->value, "the value; - reads it from stdin (binary-safe)")
      ->required();
  AddNoSync(put, args);

  CLI::App* get = AddCommand(kv, "get", "print the value of KEY (exit 1 when absent)",
                             Command::kKvGet, args);
  AddStore(get, args);
  get->add_option("KEY", args->key)->required();

  CLI::App* del = AddCommand(kv, "del", "delete KEY", Command::kKvDel, args);
  AddStore(del, args);
  del->add_option("KEY", args->key)->required();
  AddNoSync(del, args);

  CLI::App* scan = AddCommand(kv, "scan", "list keys and values, in key order", Command::kKvScan,
                              args);
  AddStore(scan, args);
  scan->add_option("PREFIX", args->prefix, "only keys starting with PREFIX");
  scan->add_option("--limit", args->limit, "at most N entries")->check(kNotNegative);

  CLI::App* inspect = AddCommand(kv, "inspect", "show every concurrent head of KEY",
                                 Command::kKvInspect, args);
  AddStore(inspect, args);
  inspect->add_option("KEY", args->key)->required();

  CLI::App* batch = AddCommand(kv, "batch", "apply several writes atomically",
                               Command::kKvBatch, args);
  AddStore(batch, args);
  batch->add_option("OP", args->ops, "put:KEY=VALUE or del:KEY")->required();
  AddNoSync(batch, args);

  CLI::App* sync = AddCommand(kv, "sync",
                              "wait until every write acknowledged before is durable; print "
                              "the cursor up to which it is",
                              Command::kKvSync, args);
  AddStore(sync, args);

  CLI::App* watch = AddCommand(kv, "watch", "print changes as they happen, one line each",
                               Command::kKvWatch, args);
  AddStore(watch, args);
  watch->add_option("PREFIX", args->prefix, "only keys starting with PREFIX");
  AddWatchOptions(watch, args);
}

void BuildChatCommands(CLI::App* app, Arguments* args) {
  CLI::App* chat = app->add_subcommand("chat", "post to and read chat stores");
  chat->require_subcommand(1);

  CLI::App* post = AddCommand(chat, "post", "post TEXT to CHANNEL and print the message hash",
                              Command::kChatPost, args);
  AddStore(post, args);
  post->add_option("CHANNEL", args->channel)->required();
  post->add_option("TEXT", args->text)->required();
  post->add_option("--sender", args->sender, "display name of the sender");
  post->add_flag("--action", args->action, "an action (/me)");

  CLI::App* history = AddCommand(chat, "history", "print the latest messages of CHANNEL",
                                 Command::kChatHistory, args);
  AddStore(history, args);
  history->add_option("CHANNEL", args->channel)->required();
  history->add_option("--limit", args->limit, "at most N messages (default 50)")
      ->check(kNotNegative);
  history->add_option("--before", args->before, "page token printed by an earlier call");

  CLI::App* topic = AddCommand(chat, "topic", "show the topic of CHANNEL, or set it to TEXT",
                               Command::kChatTopic, args);
  AddStore(topic, args);
  topic->add_option("CHANNEL", args->channel)->required();
  topic->add_option("TEXT", args->topic, "the new topic");
  topic->add_option("--sender", args->sender, "display name of who sets it");

  AddStore(AddCommand(chat, "channels", "list channels", Command::kChatChannels, args), args);

  CLI::App* watch = AddCommand(chat, "watch", "print messages as they arrive, one line each",
                               Command::kChatWatch, args);
  AddStore(watch, args);
  watch->add_option("CHANNEL", args->channel, "only this channel");
  AddWatchOptions(watch, args);
}

void BuildTokenCommands(CLI::App* app, Arguments* args) {
  CLI::App* token = app->add_subcommand("token", "service tokens for daemons");
  token->require_subcommand(1);

  CLI::App* create = AddCommand(token, "create", "create a scoped token and print it once",
                                Command::kTokenCreate, args);
  create->add_option("NAME", args->name, "what the token is for")->required();
  create->add_option("--store", args->stores,
                     "a store the token may use (repeatable; needed unless --rights is metrics)")
      ->allow_extra_args(false);
  create->add_option("--prefix", args->prefixes,
                     "restrict to keys (or chat channels) that start with the bytes P "
                     "(repeatable). A byte prefix: --prefix '#pub' also grants '#public' and "
                     "'#pub-ops'; end it with a separator ('/apps/irc/') or use --key")
      ->allow_extra_args(false);
  create->add_option("--key", args->keys,
                     "restrict to exactly KEY (repeatable; with --prefix, either grants)")
      ->allow_extra_args(false);
  create->add_option("--channel", args->keys,
                     "restrict a chat token to exactly the channel NAME, e.g. '#general' "
                     "(repeatable; the same as --key)")
      ->allow_extra_args(false);
  create->add_option("--rights", args->rights,
                     "comma-separated: read,write,watch on its stores; metrics for the node's "
                     "counters (lattice-ctl metrics, lattice-web's /metrics)")
      ->required();
  create->add_option("--ttl", args->ttl, "expire after DURATION (90s, 15m, 12h, 30d, 2w)");
  create->add_flag("--allow-root-store", args->allow_root_store,
                   "allow a root store in --store. A mesh's root store is its control plane: "
                   "a token that writes it can admit or revoke nodes and declare services, so "
                   "the kernel refuses one unless this is given");
  create->footer(
      "Without --prefix and --key the token covers every key of its stores. Ended tokens are "
      "deleted a week after they were revoked or expired.");

  CLI::App* list = AddCommand(token, "list", "list active tokens", Command::kTokenList, args);
  list->add_flag("--all,-a", args->all, "include revoked and expired tokens");

  CLI::App* revoke = AddCommand(token, "revoke", "revoke a token", Command::kTokenRevoke, args);
  revoke->add_option("ID", args->id)->required();
}

void BuildDebugCommands(CLI::App* app, Arguments* args) {
  CLI::App* debug = app->add_subcommand("debug", "checks and tools for developers");
  debug->require_subcommand(1);

  AddStore(AddCommand(debug, "verify",
                      "replay a store and compare with its state (exit 1 when not ok)",
                      Command::kDebugVerify, args),
           args);

  CLI::App* ingest =
      AddCommand(debug, "ingest", "hand signed intentions to the kernel's ingest path",
                 Command::kDebugIngest, args);
  AddStore(ingest, args);
  ingest->add_option("FILE", args->file,
                     "one hex-encoded SignedIntention per line (# comments); - reads stdin")
      ->required();

  AddStore(AddCommand(debug, "forks", "list forked authors of a store", Command::kDebugForks,
                      args),
           args);

  AddStore(AddCommand(debug, "floating",
                      "list intentions waiting for a missing dependency or for the clock",
                      Command::kDebugFloating, args),
           args);
}

void AddFsPath(CLI::App* sub, Arguments* args, const std::string& help) {
  sub->add_option("PATH", args->path, help)->required();
}

void BuildFsCommands(CLI::App* app, Arguments* args) {
  CLI::App* fs = app->add_subcommand(
      "fs", "read and write fs stores (the shared drive) without mounting them");
  fs->require_subcommand(1);
  fs->footer("PATH is a path in the store, from its root: /notes/plan.txt.");

  CLI::App* ls = AddCommand(fs, "ls", "list a directory (or show one file), name order",
                            Command::kFsLs, args);
  AddStore(ls, args);
  ls->add_option("PATH", args->path, "the directory (default: /)");
  ls->add_flag("-l,--long", args->long_listing,
               "mode, links, uid, gid, size, mtime (UTC) and name, as ls -l; symlinks show "
               "-> target");

  CLI::App* stat = AddCommand(fs, "stat", "show the attributes of PATH", Command::kFsStat, args);
  AddStore(stat, args);
  AddFsPath(stat, args, "the file, directory or link");

  CLI::App* cat = AddCommand(fs, "cat", "write the content of PATH to stdout (binary-safe)",
                             Command::kFsCat, args);
  AddStore(cat, args);
  AddFsPath(cat, args, "a regular file");

  CLI::App* put = AddCommand(
      fs, "put",
      "store a local FILE (or stdin) as PATH, a new version when PATH exists; uploads only "
      "the chunks the store lacks",
      Command::kFsPut, args);
  AddStore(put, args);
  AddFsPath(put, args, "where in the store");
  put->add_option("FILE", args->local_file, "the local file; - or nothing reads stdin");
  put->add_option("--mode", args->mode,
                  "permission bits in octal, e.g. 0644 (default: the local file's for a new "
                  "PATH; an existing PATH keeps its own)");

  CLI::App* get = AddCommand(fs, "get",
                             "copy PATH to a new local FILE with the stored file's mode",
                             Command::kFsGet, args);
  AddStore(get, args);
  AddFsPath(get, args, "a regular file");
  get->add_option("FILE", args->local_file, "the local file to create; - writes to stdout")
      ->required();
  get->add_flag("--force,-f", args->force, "overwrite FILE when it exists (never through a symlink)");

  CLI::App* mkdir = AddCommand(fs, "mkdir", "create the directory PATH", Command::kFsMkdir, args);
  AddStore(mkdir, args);
  AddFsPath(mkdir, args, "the new directory");
  mkdir->add_flag("-p,--parents", args->parents,
                  "create missing parents too; an existing directory is no error");

  CLI::App* rm = AddCommand(fs, "rm", "remove a file, a link or an empty directory",
                            Command::kFsRm, args);
  AddStore(rm, args);
  AddFsPath(rm, args, "what to remove");

  CLI::App* mv = AddCommand(fs, "mv",
                            "rename FROM to TO, or move it into TO when TO is a directory",
                            Command::kFsMv, args);
  AddStore(mv, args);
  mv->add_option("FROM", args->path)->required();
  mv->add_option("TO", args->to)->required();

  AddStore(AddCommand(fs, "conflicts",
                      "list conflict copies: each copy's path, the path that kept the name, "
                      "its author and time",
                      Command::kFsConflicts, args),
           args);

  CLI::App* history = AddCommand(fs, "history",
                                 "list the content versions of a file, newest first, its "
                                 "heads and the winner marked",
                                 Command::kFsHistory, args);
  AddStore(history, args);
  AddFsPath(history, args, "a regular file");

  CLI::App* restore = AddCommand(fs, "restore",
                                 "make VERSION the content of PATH again (as a new version)",
                                 Command::kFsRestore, args);
  AddStore(restore, args);
  AddFsPath(restore, args, "a regular file");
  restore->add_option("VERSION", args->version,
                      "a version as fs history prints it, or any unique prefix of it")
      ->required();
}

}  // namespace

std::optional<int> ParseCommandLine(int argc, const char* const* argv, Arguments* args,
                                    std::ostream& out, std::ostream& err) {
  CLI::App app(kDescription, "lattice-ctl");
  // Global options are accepted after the command too: `lattice-ctl kv get s k --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("lattice-ctl ") + client::ClientVersion());
  app.add_option("--socket", args->global.socket,
                 "the kernel's socket (default: $LATTICE_SOCKET or the standard path)");
  std::string token_file;
  auto* token_option = app.add_option(
      "--token", args->global.token,
      "a service token; visible to every user in the process list, so prefer --token-file "
      "or $LATTICE_TOKEN (default: $LATTICE_TOKEN, else the admin cookie)");
  app.add_option("--token-file", token_file, "read the service token from this file")
      ->excludes(token_option);
  app.add_flag("--json", args->global.json,
               "print JSON for scripts; errors too, as one JSON line on stderr");

  AddCommand(&app, "status", "show the node's health at a glance", Command::kStatus, args);
  AddCommand(&app, "metrics",
             "show the kernel's counters: stores, peers, watches, RPC latency, service restarts "
             "(the admin cookie, or a token with the metrics right)",
             Command::kMetrics, args);
  BuildStoreCommands(&app, args);
  BuildPeerCommands(&app, args);
  BuildKvCommands(&app, args);
  BuildChatCommands(&app, args);
  BuildFsCommands(&app, args);
  BuildTokenCommands(&app, args);
  BuildDebugCommands(&app, args);
  BuildServiceCommands(&app, args);
  BuildNodeCommands(&app, args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    absl::Status error = UsageError(std::string(e.what()) + " (see --help)");
    // The command line did not parse, so --json is looked for in it by hand.
    bool json = std::any_of(argv + 1, argv + argc,
                            [](const char* arg) { return std::string_view(arg) == "--json"; });
    if (json) {
      err << DescribeStatusJson(error) << "\n";
    } else {
      err << "lattice-ctl: " << DescribeStatus(error) << "\n";
    }
    return kExitUsage;
  }
  if (!token_file.empty()) {
    auto token = client::ReadTokenFile(token_file);
    if (!token.ok()) {
      if (args->global.json) {
        err << DescribeStatusJson(token.status()) << "\n";
      } else {
        err << "lattice-ctl: " << DescribeStatus(token.status()) << "\n";
      }
      return kExitUsage;
    }
    args->global.token = *std::move(token);
  }
  return std::nullopt;
}

}  // namespace lattice::ctl
