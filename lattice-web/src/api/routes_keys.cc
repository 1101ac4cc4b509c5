// Keys of a kv (or root) store: read, write with compare-and-set, inspect, scan, batch.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "src/api/routes.h"
#include "src/json/json_codec.h"

namespace lattice::web {
namespace {

constexpr uint64_t kDefaultScanLimit = 100;
constexpr uint64_t kMaxScanLimit = 1000;

// An ETag names the key's heads: "h1.h2" (hex hashes, winner first).
std::string ETagOf(const google::protobuf::RepeatedPtrField<std::string>& heads) {
  return "\"" + absl::StrJoin(heads, ".") + "\"";
}

// The heads an If-Match names, or the empty set for If-None-Match: * (only a key that was
// never written). nullopt when the request sets neither; an error for a malformed tag.
absl::StatusOr<std::optional<v1::HeadsCondition>> ConditionOf(const http::Request& request) {
  if (auto none = request.Header("If-None-Match")) {
    if (*none != "*") {
      return absl::InvalidArgumentError("If-None-Match accepts only * on a write");
    }
    return std::optional<v1::HeadsCondition>(v1::HeadsCondition());
  }
  auto match = request.Header("If-Match");
  if (!match) return std::optional<v1::HeadsCondition>();
  std::string_view tag = *match;
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') {
    return absl::InvalidArgumentError(
        "If-Match must be one quoted ETag as a GET of the key answered (\"...\")");
  }
  tag = tag.substr(1, tag.size() - 2);
  v1::HeadsCondition condition;
  if (!tag.empty()) {
    for (absl::string_view piece : absl::StrSplit(std::string(tag), '.')) {
      std::string_view head(piece.data(), piece.size());
      if (head.size() != 64 || !FromHex(head)) {
        return absl::InvalidArgumentError("If-Match names a head that is not a 64-digit hash");
      }
      condition.add_expected_heads(std::string(head));
    }
  }
  return std::optional<v1::HeadsCondition>(std::move(condition));
}

bool WantsJson(const http::Request& request) {
  auto accept = request.Header("Accept");
  return accept && accept->find("application/json") != std::string_view::npos;
}

bool IsJsonBody(const http::Request& request) {
  auto type = request.Header("Content-Type");
  return type && type->substr(0, 16) == "application/json";
}

nlohmann::json WriteJson(const v1::WriteResult& result) {
  return {{"hash", result.hash()}, {"cursor", result.cursor()}};
}

void Get(ApiContext& ctx, const std::shared_ptr<ApiCall>& call) {
  const std::string& store = call->params()[0];
  const std::string& key = call->params()[1];
  if (call->HasQuery("inspect")) {
    v1::InspectRequest request;
    request.set_store(store);
    request.set_key(key);
    ctx.link.Call(
        ctx.link.kv().async(), &v1::Kv::Stub::async::Inspect, call->token(), request,
        [call, key](grpc::Status status, v1::InspectResponse response) {
          if (!status.ok()) return call->Fail(status);
          nlohmann::json body = nlohmann::json::object();
          SetBytes(body, "key", key);
          body["conflicted"] = response.conflicted();
          body["heads"] = nlohmann::json::array();
          for (const auto& head : response.heads()) {
            nlohmann::json h = {{"hash", head.hash()},
                                {"author", head.author()},
                                {"hlc", ProtoToJson(head.hlc())},
                                {"deleted", head.deleted()}};
            if (!head.deleted()) SetBytes(h, "value", head.value());
            body["heads"].push_back(std::move(h));
          }
          call->Json(200, body);
        });
    return;
  }
  v1::GetRequest request;
  request.set_store(store);
  request.set_key(key);
  ctx.link.Call(
      ctx.link.kv().async(), &v1::Kv::Stub::async::Get, call->token(), request,
      [call, key](grpc::Status status, v1::GetResponse response) {
        if (!status.ok()) return call->Fail(status);
        Headers headers;
        if (response.heads_size() > 0) headers.emplace_back("ETag", ETagOf(response.heads()));
        if (!response.found()) {
          return call->FailWithHeaders(404, fmt::format("the key is absent"), std::move(headers));
        }
        if (response.conflicted()) headers.emplace_back("Lattice-Conflicted", "true");
        if (WantsJson(call->request())) {
          nlohmann::json body = nlohmann::json::object();
          SetBytes(body, "key", key);
          SetBytes(body, "value", response.value());
          body["conflicted"] = response.conflicted();
          body["author"] = response.author();
          body["hlc"] = ProtoToJson(response.hlc());
          body["heads"] = nlohmann::json(std::vector<std::string>(response.heads().begin(),
                                                                  response.heads().end()));
          return call->Json(200, body, std::move(headers));
        }
        call->Bytes(200, response.value(), "application/octet-stream", std::move(headers));
      });
}

// The value a PUT carries: the raw body, or {"value"} / {"value_base64"} in JSON.
absl::StatusOr<std::string> ValueOf(const http::Request& request) {
  if (!IsJsonBody(request)) return request.body;
  auto json = ParseJsonObject(request.body);
  if (!json.ok()) return json.status();
  for (const auto& [name, unused] : json->items()) {
    if (name != "value" && name != "value_base64") {
      return absl::InvalidArgumentError(fmt::format(
          "unknown member \"{}\": a JSON value is {{\"value\": text}} or {{\"value_base64\": ...}}",
          name.substr(0, 64)));
    }
  }
  auto value = GetBytes(*json, "value");
  if (!value.ok()) return value.status();
  if (!value->has_value()) {
    return absl::InvalidArgumentError("the JSON body needs \"value\" or \"value_base64\"");
  }
  return **value;
}

void Write(ApiContext& ctx, const std::shared_ptr<ApiCall>& call, bool remove) {
  const std::string& key = call->params()[1];
  if (key.size() > limits::kMaxKeyBytes) {
    return call->Fail(400, fmt::format("the key is {} bytes; keys are at most {}", key.size(),
                                       limits::kMaxKeyBytes));
  }
  auto condition = ConditionOf(call->request());
  if (!condition.ok()) return call->Fail(condition.status());
  auto done = [call](grpc::Status status, v1::WriteResult result) {
    if (status.error_code() == grpc::StatusCode::ABORTED) {
      return call->Fail(409, "the key changed since the ETag in If-Match (or If-None-Match) "
                             "was read: " + status.error_message());
    }
    if (!status.ok()) return call->Fail(status);
    call->Json(200, WriteJson(result));
  };
  if (remove) {
    v1::DeleteRequest request;
    request.set_store(call->params()[0]);
    request.set_key(key);
    if (*condition) *request.mutable_if_heads() = **condition;
    ctx.link.Call(ctx.link.kv().async(), &v1::Kv::Stub::async::Delete, call->token(), request,
                  done);
    return;
  }
  auto value = ValueOf(call->request());
  if (!value.ok()) return call->Fail(value.status());
  if (value->size() > limits::kMaxValueBytes) {
    return call->Fail(413, fmt::format("the value is {} bytes; values are at most {}",
                                       value->size(), limits::kMaxValueBytes));
  }
  v1::PutRequest request;
  request.set_store(call->params()[0]);
  request.set_key(key);
  request.set_value(*std::move(value));
  if (*condition) *request.mutable_if_heads() = **condition;
  ctx.link.Call(ctx.link.kv().async(), &v1::Kv::Stub::async::Put, call->token(), request, done);
}

// A page of Kv.Scan: reads entries until it has one more than the page needs (to know
// whether a next page exists), then cancels the stream.
class ScanCall final : public grpc::ClientReadReactor<v1::ScanPage> {
 public:
  ScanCall(std::shared_ptr<ApiCall> call, std::unique_ptr<grpc::ClientContext> context,
           v1::ScanRequest request, uint64_t limit)
      : call_(std::move(call)), context_(std::move(context)), request_(std::move(request)),
        limit_(limit) {}

  void Begin(v1::Kv::Stub& kv) {
    kv.async()->Scan(context_.get(), &request_, this);
    StartRead(&page_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    for (auto& entry : *page_.mutable_entries()) entries_.push_back(std::move(entry));
    page_.Clear();
    if (entries_.size() > limit_) {
      enough_ = true;
      context_->TryCancel();
      return;
    }
    StartRead(&page_);
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok() && !enough_) {
      call_->Fail(status);
    } else {
      nlohmann::json body = {{"entries", nlohmann::json::array()}, {"next_cursor", nullptr}};
      size_t shown = std::min<size_t>(entries_.size(), limit_);
      for (size_t i = 0; i < shown; ++i) {
        nlohmann::json entry = nlohmann::json::object();
        SetBytes(entry, "key", entries_[i].key());
        SetBytes(entry, "value", entries_[i].value());
        entry["conflicted"] = entries_[i].conflicted();
        body["entries"].push_back(std::move(entry));
      }
      if (entries_.size() > limit_ && shown > 0) body["next_cursor"] = ToHex(entries_[shown - 1].key());
      call_->Json(200, body);
    }
    delete this;
  }

 private:
  std::shared_ptr<ApiCall> call_;
  std::unique_ptr<grpc::ClientContext> context_;
  v1::ScanRequest request_;
  uint64_t limit_;
  v1::ScanPage page_;
  std::vector<v1::ScanEntry> entries_;
  bool enough_ = false;
};

void Scan(ApiContext& ctx, const std::shared_ptr<ApiCall>& call) {
  uint64_t limit = kDefaultScanLimit;
  if (call->HasQuery("limit")) {
    std::string text = call->Query("limit");
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size() || limit == 0 ||
        limit > kMaxScanLimit) {
      return call->Fail(400, fmt::format("limit must be a number from 1 to {}", kMaxScanLimit));
    }
  }
  v1::ScanRequest request;
  request.set_store(call->params()[0]);
  request.set_prefix(call->Query("prefix"));
  request.set_start(call->Query("start"));
  request.set_end(call->Query("end"));
  if (call->HasQuery("cursor")) {
    auto last = FromHex(call->Query("cursor"));
    if (!last || last->empty()) {
      return call->Fail(400, "cursor must be the next_cursor of a previous page");
    }
    // The next page starts just after the last key shown: the smallest key above it.
    std::string start = *last + std::string(1, '\0');
    request.set_start(std::max(start, request.start()));
  }
  request.set_page_size(static_cast<uint32_t>(std::min<uint64_t>(limit + 1, 1000)));
  request.set_limit(limit + 1);
  auto* scan = new ScanCall(call, ctx.link.NewContext(call->token(), false), std::move(request),
                            limit);
  scan->Begin(ctx.link.kv());
}

void Batch(ApiContext& ctx, const std::shared_ptr<ApiCall>& call) {
  auto json = ParseJsonObject(call->request().body);
  if (!json.ok()) return call->Fail(json.status());
  auto ops = json->find("ops");
  if (ops == json->end() || !ops->is_array() || ops->empty()) {
    return call->Fail(400, "a batch is {\"ops\": [...]} with at least one operation");
  }
  if (ops->size() > limits::kMaxBatchOps) {
    return call->Fail(413, fmt::format("a batch holds at most {} operations", limits::kMaxBatchOps));
  }
  v1::BatchRequest request;
  request.set_store(call->params()[0]);
  size_t bytes = 0;
  for (size_t i = 0; i < ops->size(); ++i) {
    const auto& op = (*ops)[i];
    if (!op.is_object()) return call->Fail(400, fmt::format("ops[{}] must be an object", i));
    auto key = GetBytes(op, "key");
    if (!key.ok()) return call->Fail(400, fmt::format("ops[{}]: {}", i, std::string(key.status().message())));
    if (!key->has_value() || (*key)->empty()) {
      return call->Fail(400, fmt::format("ops[{}] needs a \"key\"", i));
    }
    auto value = GetBytes(op, "value");
    if (!value.ok()) return call->Fail(400, fmt::format("ops[{}]: {}", i, std::string(value.status().message())));
    bool remove = false;
    if (auto d = op.find("delete"); d != op.end()) {
      if (!d->is_boolean()) return call->Fail(400, fmt::format("ops[{}].delete must be true or false", i));
      remove = d->get<bool>();
    }
    if (remove == value->has_value()) {
      return call->Fail(400, fmt::format("ops[{}] needs either a value or \"delete\": true", i));
    }
    auto* out = request.add_ops();
    out->set_key(**key);
    if (!remove) out->set_value(**value);
    out->set_delete_(remove);
    bytes += out->key().size() + out->value().size();
  }
  if (bytes > limits::kMaxBatchBytes) {
    return call->Fail(413, fmt::format("the batch writes {} bytes; at most {}", bytes,
                                       limits::kMaxBatchBytes));
  }
  ctx.link.Call(
      ctx.link.kv().async(), &v1::Kv::Stub::async::Batch, call->token(), request,
      [call](grpc::Status status, v1::WriteResult result) {
        if (!status.ok()) return call->Fail(status);
        call->Json(200, WriteJson(result));
      });
}

}  // namespace

void AddKeyRoutes(Router& router, ApiContext& ctx) {
  const std::string key = "/api/v1/stores/{store}/keys/{key}";
  router.Add("GET", key, [&ctx](const auto& call) { Get(ctx, call); });
  router.Add("PUT", key, [&ctx](const auto& call) { Write(ctx, call, false); });
  router.Add("DELETE", key, [&ctx](const auto& call) { Write(ctx, call, true); });
  router.Add("GET", "/api/v1/stores/{store}/keys", [&ctx](const auto& call) { Scan(ctx, call); });
  router.Add("POST", "/api/v1/stores/{store}/batch", [&ctx](const auto& call) { Batch(ctx, call); });
}

}  // namespace lattice::web
