#include <fmt/format.h>

#include "lattice/common/status.h"
#include "lattice/common/chat_channel.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "rpc/services.h"
#include "rpc/watch_stream.h"
#include "state/chat_payload.h"
#include "state/chat_state.h"

namespace lattice::kernel {
namespace {

AccessRequest ChatAccess(const std::string& store, Right right, std::string_view channel) {
  KeyScope scope{channel.empty() ? KeyScope::Kind::kPrefix : KeyScope::Kind::kKey, channel};
  return AccessRequest{store, right, StoreType::kChat, scope, {}};
}

// What a token's prefixes and keys are matched against for a channel: its name as IRC shows
// it, '#' and the canonical name, so `--prefix '#pub'` and `--channel '#general'` mean what
// they say however a caller spells the channel ("General", "#general").
std::string ChannelScope(std::string_view channel) {
  return channel.empty() ? std::string() : "#" + CanonicalChatChannel(channel);
}

// Finishes a write call refused before it reached the store.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

// Starts the write; the store finishes the call once it is durable, or once applied as
// `durability` asks. A post acknowledged applied is synced at once behind that answer
// (store.h, Durability), so it reaches the peers as soon as a synced one would.
grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context, Store& store,
                                 v1::ChatPayload payload, v1::WriteResult* out,
                                 v1::Durability durability = v1::DURABILITY_SYNCED) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Durability acknowledged = DurabilityOf(durability);
  if (acknowledged == Durability::kApplied) acknowledged = Durability::kAppliedThenSynced;
  store.WriteChatAsync(std::move(payload), FinishWithReceipt(reactor, out), acknowledged);
  return reactor;
}

// Chat.Watch: the messages of one channel (or all) as their intentions are witnessed.
class ChatWatchStream final : public WatchStream<v1::ChatWatchResponse> {
 public:
  ChatWatchStream(ServiceContext& ctx, grpc::CallbackServerContext* context,
                  const v1::ChatWatchRequest* request)
      : WatchStream(ctx, context, request->from_now(), request->from_cursor()),
        request_(*request),
        channel_(request->channel().empty() ? "" : CanonicalChatChannel(request->channel())),
        scope_(ChannelScope(channel_)) {}

 protected:
  AccessRequest Access() const override {
    return ChatAccess(request_.store(), Right::kWatch, scope_);
  }

  size_t Collect(v1::ChatWatchResponse& out, uint64_t witness, const DecodedIntention& intention,
                 bool noop) override {
    if (noop) return 0;
    auto message = ReadChatMessage(store().db(), intention.hash);
    if (!message.ok()) return 0;
    if (!channel_.empty() && CanonicalChatChannel(message->channel()) != channel_) return 0;
    message->set_channel(ListedChatChannel(message->channel()));
    message->set_cursor(witness);
    auto* added = out.add_messages();
    *added = *std::move(message);
    return added->ByteSizeLong();
  }

  int EventCount(const v1::ChatWatchResponse& out) const override { return out.messages_size(); }

 private:
  const v1::ChatWatchRequest& request_;
  const std::string channel_;  // canonical; empty: every channel
  const std::string scope_;
};

}  // namespace

grpc::ServerUnaryReactor* ChatService::Write(grpc::CallbackServerContext* context,
                                             const std::string& store, std::string_view channel,
                                             v1::ChatPayload payload, v1::WriteResult* out,
                                             v1::Durability durability) {
  std::string scope = ChannelScope(channel);
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, ChatAccess(store, Right::kWrite, scope));
  if (!access.ok()) return Refuse(context, access.status());
  return Submit(context, *access->store, std::move(payload), out, durability);
}

grpc::ServerUnaryReactor* ChatService::WriteToRef(grpc::CallbackServerContext* context,
                                                  const std::string& store, const std::string& ref,
                                                  v1::ChatPayload payload, v1::WriteResult* out) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            AccessRequest{store, Right::kWrite, StoreType::kChat, {}, {}});
  if (!access.ok()) return Refuse(context, access.status());
  auto parent = FindChatMessage(access->store->db(), ref);
  if (parent.status().code() == absl::StatusCode::kNotFound) {
    return Refuse(context, absl::NotFoundError(fmt::format("store {} holds no message {}",
                                                           access->descriptor.name, Quote(ref))));
  }
  if (!parent.ok()) return Refuse(context, parent.status());
  if (!access->caller.Covers(ChannelScope(parent->channel()))) {
    return Refuse(context, absl::PermissionDeniedError(fmt::format(
                               "token {} is limited to its prefixes and keys; message {} is in "
                               "channel {}, outside them",
                               access->caller.token.id(), Quote(ref), Quote(ChannelScope(parent->channel())))));
  }
  auto hash = ParseHash(parent->hash());
  if (!hash) return Refuse(context, absl::DataLossError("chat index holds a malformed hash"));
  // The parent is cited by hash, whichever form named it.
  if (payload.has_reply()) payload.mutable_reply()->set_ref(*hash);
  if (payload.has_react()) payload.mutable_react()->set_ref(*hash);
  return Submit(context, *access->store, std::move(payload), out);
}

grpc::ServerUnaryReactor* ChatService::Post(grpc::CallbackServerContext* context,
                                            const v1::PostRequest* request,
                                            v1::WriteResult* response) {
  if (absl::Status tags = CheckChatTags(request->tags()); !tags.ok()) return Refuse(context, tags);
  if (absl::Status msgid = CheckChatMsgid(request->msgid()); !msgid.ok()) {
    return Refuse(context, msgid);
  }
  // Stored by its canonical name, so that "#general" and "general" are one channel.
  std::string channel = CanonicalChatChannel(request->channel());
  v1::ChatPayload payload;
  auto* post = payload.mutable_post();
  post->set_channel(channel);
  post->set_text(request->text());
  post->set_sender(request->sender());
  post->set_action(request->action());
  *post->mutable_tags() = request->tags();
  post->set_msgid(request->msgid());
  post->set_time_ms(request->time_ms());
  return Write(context, request->store(), channel, std::move(payload), response,
               request->durability());
}

grpc::ServerUnaryReactor* ChatService::Reply(grpc::CallbackServerContext* context,
                                             const v1::ReplyRequest* request,
                                             v1::WriteResult* response) {
  v1::ChatPayload payload;
  payload.mutable_reply()->set_text(request->text());
  payload.mutable_reply()->set_sender(request->sender());
  return WriteToRef(context, request->store(), request->ref(), std::move(payload), response);
}

grpc::ServerUnaryReactor* ChatService::React(grpc::CallbackServerContext* context,
                                             const v1::ReactRequest* request,
                                             v1::WriteResult* response) {
  v1::ChatPayload payload;
  payload.mutable_react()->set_emoji(request->emoji());
  payload.mutable_react()->set_sender(request->sender());
  return WriteToRef(context, request->store(), request->ref(), std::move(payload), response);
}

grpc::ServerUnaryReactor* ChatService::SetTopic(grpc::CallbackServerContext* context,
                                                const v1::SetTopicRequest* request,
                                                v1::WriteResult* response) {
  std::string channel = CanonicalChatChannel(request->channel());
  v1::ChatPayload payload;
  payload.mutable_topic()->set_channel(channel);
  payload.mutable_topic()->set_text(request->text());
  payload.mutable_topic()->set_sender(request->sender());
  return Write(context, request->store(), channel, std::move(payload), response);
}

grpc::ServerUnaryReactor* ChatService::SetModes(grpc::CallbackServerContext* context,
                                                const v1::SetModesRequest* request,
                                                v1::WriteResult* response) {
  if (absl::Status changes = CheckChatModeChanges(request->changes()); !changes.ok()) {
    return Refuse(context, changes);
  }
  std::string channel = CanonicalChatChannel(request->channel());
  v1::ChatPayload payload;
  payload.mutable_modes()->set_channel(channel);
  *payload.mutable_modes()->mutable_changes() = request->changes();
  payload.mutable_modes()->set_sender(request->sender());
  return Write(context, request->store(), channel, std::move(payload), response);
}

grpc::Status ChatService::GetChannel(grpc::ServerContext* context,
                                     const v1::GetChannelRequest* request,
                                     v1::ChannelInfo* response) {
  if (CanonicalChatChannel(request->channel()).empty()) {
    return ToGrpc(absl::InvalidArgumentError("GetChannel needs a channel"));
  }
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            ChatAccess(request->store(), Right::kRead,
                                       ChannelScope(request->channel())));
  if (!access.ok()) return ToGrpc(access.status());
  auto channel = ReadChannel(access->store->db(), request->channel());
  if (!channel.ok()) return ToGrpc(channel.status());
  *response = *std::move(channel);
  return grpc::Status::OK;
}

grpc::Status ChatService::GetTopic(grpc::ServerContext* context, const v1::GetTopicRequest* request,
                                   v1::Topic* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            ChatAccess(request->store(), Right::kRead,
                                       ChannelScope(request->channel())));
  if (!access.ok()) return ToGrpc(access.status());
  auto topic = ReadTopic(access->store->db(), request->channel());
  if (!topic.ok()) return ToGrpc(topic.status());
  *response = *std::move(topic);
  return grpc::Status::OK;
}

grpc::Status ChatService::History(grpc::ServerContext* context, const v1::HistoryRequest* request,
                                  v1::HistoryResponse* response) {
  if (request->channel().empty()) return ToGrpc(absl::InvalidArgumentError("history needs a channel"));
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            ChatAccess(request->store(), Right::kRead,
                                       ChannelScope(request->channel())));
  if (!access.ok()) return ToGrpc(access.status());
  uint32_t limit = request->limit() == 0 ? 50 : std::min(request->limit(), limits::kMaxHistoryLimit);
  auto page = ReadChatHistory(access->store->db(), request->channel(), limit, request->before());
  if (!page.ok()) return ToGrpc(page.status());
  for (auto& message : page->messages) *response->add_messages() = std::move(message);
  response->set_next_before(page->next_before);
  return grpc::Status::OK;
}

grpc::Status ChatService::ListChannels(grpc::ServerContext* context,
                                       const v1::ListChannelsRequest* request,
                                       v1::ListChannelsResponse* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            AccessRequest{request->store(), Right::kRead, StoreType::kChat, {}, {}});
  if (!access.ok()) return ToGrpc(access.status());
  auto channels = ReadChannels(access->store->db());
  if (!channels.ok()) return ToGrpc(channels.status());
  for (auto& channel : *channels) {
    // A token limited to some channels does not learn of the others.
    if (access->caller.Covers(ChannelScope(channel.name()))) {
      *response->add_channels() = std::move(channel);
    }
  }
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::ChatWatchResponse>* ChatService::Watch(
    grpc::CallbackServerContext* context, const v1::ChatWatchRequest* request) {
  return StreamReactor<v1::ChatWatchResponse>::Open<ChatWatchStream>(ctx_, context, request);
}

}  // namespace lattice::kernel
