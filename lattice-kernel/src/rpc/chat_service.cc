#include <fmt/format.h>

#include "lattice/common/status.h"
#include "lattice/common/chat_channel.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "rpc/services.h"
#include "rpc/watch_loop.h"
#include "state/chat_state.h"

namespace lattice::kernel {
namespace {

AccessRequest ChatAccess(const std::string& store, Right right, std::string_view channel) {
  KeyScope scope{channel.empty() ? KeyScope::Kind::kPrefix : KeyScope::Kind::kKey, channel};
  return AccessRequest{store, right, StoreType::kChat, scope, {}};
}

// Finishes a write call refused before it reached the store.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

absl::StatusOr<std::string> ParseRef(const std::string& hex) {
  auto ref = ParseHash(hex);
  if (!ref) return absl::InvalidArgumentError(fmt::format("\"{}\" is not a message hash", hex));
  return *ref;
}

}  // namespace

grpc::ServerUnaryReactor* ChatService::Write(grpc::CallbackServerContext* context,
                                             const std::string& store, std::string_view channel,
                                             v1::ChatPayload payload, v1::WriteResult* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, ChatAccess(store, Right::kWrite, channel));
  if (!access.ok()) {
    reactor->Finish(ToGrpc(access.status()));
    return reactor;
  }
  access->store->WriteChatAsync(std::move(payload),
                                [reactor, out](absl::StatusOr<WriteReceipt> receipt) {
                                  if (!receipt.ok()) {
                                    reactor->Finish(ToGrpc(receipt.status()));
                                    return;
                                  }
                                  FillReceipt(*receipt, out);
                                  reactor->Finish(grpc::Status::OK);
                                });
  return reactor;
}

grpc::ServerUnaryReactor* ChatService::Post(grpc::CallbackServerContext* context,
                                            const v1::PostRequest* request,
                                            v1::WriteResult* response) {
  // Stored by its canonical name, so that "#general" and "general" are one channel.
  std::string channel = CanonicalChatChannel(request->channel());
  v1::ChatPayload payload;
  auto* post = payload.mutable_post();
  post->set_channel(channel);
  post->set_text(request->text());
  post->set_sender(request->sender());
  post->set_action(request->action());
  return Write(context, request->store(), channel, std::move(payload), response);
}

grpc::ServerUnaryReactor* ChatService::Reply(grpc::CallbackServerContext* context,
                                             const v1::ReplyRequest* request,
                                             v1::WriteResult* response) {
  auto ref = ParseRef(request->ref());
  if (!ref.ok()) return Refuse(context, ref.status());
  v1::ChatPayload payload;
  payload.mutable_reply()->set_ref(*ref);
  payload.mutable_reply()->set_text(request->text());
  payload.mutable_reply()->set_sender(request->sender());
  return Write(context, request->store(), {}, std::move(payload), response);
}

grpc::ServerUnaryReactor* ChatService::React(grpc::CallbackServerContext* context,
                                             const v1::ReactRequest* request,
                                             v1::WriteResult* response) {
  auto ref = ParseRef(request->ref());
  if (!ref.ok()) return Refuse(context, ref.status());
  v1::ChatPayload payload;
  payload.mutable_react()->set_ref(*ref);
  payload.mutable_react()->set_emoji(request->emoji());
  payload.mutable_react()->set_sender(request->sender());
  return Write(context, request->store(), {}, std::move(payload), response);
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

grpc::Status ChatService::GetTopic(grpc::ServerContext* context, const v1::GetTopicRequest* request,
                                   v1::Topic* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            ChatAccess(request->store(), Right::kRead,
                                       CanonicalChatChannel(request->channel())));
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
                                       CanonicalChatChannel(request->channel())));
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
  for (auto& channel : *channels) *response->add_channels() = std::move(channel);
  return grpc::Status::OK;
}

grpc::Status ChatService::Watch(grpc::ServerContext* context, const v1::ChatWatchRequest* request,
                                grpc::ServerWriter<v1::ChatWatchResponse>* writer) {
  const std::string channel =
      request->channel().empty() ? "" : CanonicalChatChannel(request->channel());
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            ChatAccess(request->store(), Right::kWatch, channel));
  if (!access.ok()) return ToGrpc(access.status());
  const Store& store = *access->store;
  uint64_t cursor = request->from_now() ? store.last_witness() : request->from_cursor();
  return RunWatchLoop<v1::ChatWatchResponse>(
      context, ctx_.stopping, store, cursor, writer,
      [&](v1::ChatWatchResponse& response, uint64_t witness, const DecodedIntention& intention, bool noop) {
        if (noop) return;
        auto message = ReadChatMessage(store.db(), intention.hash);
        if (!message.ok()) return;
        if (!channel.empty() && CanonicalChatChannel(message->channel()) != channel) return;
        message->set_channel(ListedChatChannel(message->channel()));
        message->set_cursor(witness);
        *response.add_messages() = *std::move(message);
      });
}

}  // namespace lattice::kernel
