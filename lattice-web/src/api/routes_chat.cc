// A chat store's channels: history (paged, oldest first), posts, replies, reactions, topics.
#include <fmt/format.h>

#include <charconv>

#include "src/api/routes.h"
#include "src/json/json_codec.h"

namespace lattice::web {
namespace {

using ChatAsync = class v1::Chat::Stub::async;

// {"text": ..., "sender": ..., "action": ...} with only the members a call names.
absl::Status ReadText(const std::shared_ptr<ApiCall>& call, const std::string& member,
                      std::string* text, std::string* sender, bool* action) {
  auto json = ParseJsonObject(call->request().body);
  if (!json.ok()) return json.status();
  for (const auto& [name, value] : json->items()) {
    if (name == member) {
      if (!value.is_string()) return absl::InvalidArgumentError("\"" + member + "\" must be a string");
      *text = value.get<std::string>();
    } else if (name == "sender") {
      if (!value.is_string()) return absl::InvalidArgumentError("\"sender\" must be a string");
      *sender = value.get<std::string>();
    } else if (name == "action" && action != nullptr) {
      if (!value.is_boolean()) return absl::InvalidArgumentError("\"action\" must be true or false");
      *action = value.get<bool>();
    } else {
      return absl::InvalidArgumentError(fmt::format("unknown member \"{}\"", name.substr(0, 64)));
    }
  }
  if (text->empty()) return absl::InvalidArgumentError("\"" + member + "\" is required");
  return absl::OkStatus();
}

std::function<void(grpc::Status, v1::WriteResult)> Created(std::shared_ptr<ApiCall> call) {
  return [call = std::move(call)](grpc::Status status, v1::WriteResult result) {
    if (!status.ok()) return call->Fail(status);
    call->Json(201, {{"hash", result.hash()}, {"cursor", result.cursor()}});
  };
}

}  // namespace

void AddChatRoutes(Router& router, ApiContext& ctx) {
  const std::string channel = "/api/v1/stores/{store}/channels/{channel}";
  router.Add("GET", "/api/v1/stores/{store}/channels", [&ctx](const auto& call) {
    v1::ListChannelsRequest request;
    request.set_store(call->params()[0]);
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::ListChannels, call->token(), request,
                  ReplyJson<v1::ListChannelsResponse>(call));
  });
  router.Add("GET", channel + "/messages", [&ctx](const auto& call) {
    v1::HistoryRequest request;
    request.set_store(call->params()[0]);
    request.set_channel(call->params()[1]);
    request.set_before(call->Query("before"));
    if (call->HasQuery("limit")) {
      std::string text = call->Query("limit");
      uint32_t limit = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (error != std::errc() || end != text.data() + text.size() || limit == 0 || limit > 1000) {
        return call->Fail(400, "limit must be a number from 1 to 1000");
      }
      request.set_limit(limit);
    }
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::History, call->token(), request,
                  ReplyJson<v1::HistoryResponse>(call));
  });
  router.Add("POST", channel + "/messages", [&ctx](const auto& call) {
    v1::PostRequest request;
    request.set_store(call->params()[0]);
    request.set_channel(call->params()[1]);
    bool action = false;
    if (absl::Status s = ReadText(call, "text", request.mutable_text(), request.mutable_sender(),
                                  &action);
        !s.ok()) {
      return call->Fail(s);
    }
    request.set_action(action);
    // Answered with the message as History will show it, so a page can list it at once.
    v1::ChatMessage shown;
    shown.set_channel(request.channel());
    shown.set_kind("post");
    shown.set_text(request.text());
    shown.set_sender(request.sender());
    shown.set_action(action);
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::Post, call->token(), request,
                  [call, shown](grpc::Status status, v1::WriteResult result) mutable {
                    if (!status.ok()) return call->Fail(status);
                    shown.set_hash(result.hash());
                    shown.set_cursor(result.cursor());
                    *shown.mutable_hlc() = result.hlc();
                    call->Json(201, ProtoToJson(shown));
                  });
  });
  router.Add("POST", channel + "/messages/{id}/replies", [&ctx](const auto& call) {
    v1::ReplyRequest request;
    request.set_store(call->params()[0]);
    request.set_ref(call->params()[2]);
    if (absl::Status s = ReadText(call, "text", request.mutable_text(), request.mutable_sender(),
                                  nullptr);
        !s.ok()) {
      return call->Fail(s);
    }
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::Reply, call->token(), request, Created(call));
  });
  router.Add("POST", channel + "/messages/{id}/reactions", [&ctx](const auto& call) {
    v1::ReactRequest request;
    request.set_store(call->params()[0]);
    request.set_ref(call->params()[2]);
    if (absl::Status s = ReadText(call, "emoji", request.mutable_emoji(), request.mutable_sender(),
                                  nullptr);
        !s.ok()) {
      return call->Fail(s);
    }
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::React, call->token(), request, Created(call));
  });
  router.Add("GET", channel + "/topic", [&ctx](const auto& call) {
    v1::GetTopicRequest request;
    request.set_store(call->params()[0]);
    request.set_channel(call->params()[1]);
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::GetTopic, call->token(), request,
                  ReplyJson<v1::Topic>(call));
  });
  router.Add("PUT", channel + "/topic", [&ctx](const auto& call) {
    v1::SetTopicRequest request;
    request.set_store(call->params()[0]);
    request.set_channel(call->params()[1]);
    if (absl::Status s = ReadText(call, "topic", request.mutable_text(), request.mutable_sender(),
                                  nullptr);
        !s.ok()) {
      return call->Fail(s);
    }
    ctx.link.Call(ctx.link.chat().async(), &ChatAsync::SetTopic, call->token(), request,
                  [call](grpc::Status status, v1::WriteResult result) {
                    if (!status.ok()) return call->Fail(status);
                    call->Json(200, {{"hash", result.hash()}, {"cursor", result.cursor()}});
                  });
  });
}

}  // namespace lattice::web
