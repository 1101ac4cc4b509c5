#include "lattice/common/status.h"
#include "lattice/common/quote.h"
#include "rpc/call_context.h"

#include <fmt/format.h>

#include <algorithm>

#include "lattice/common/crypto.h"
#include "lattice/common/ids.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kBearer = "Bearer ";

bool UnderAPrefix(const v1::TokenRecord& token, std::string_view key) {
  return std::any_of(token.prefixes().begin(), token.prefixes().end(),
                     [&](const std::string& p) { return key.substr(0, p.size()) == p; });
}

bool Unscoped(const v1::TokenRecord& token) {
  return token.prefixes_size() == 0 && token.keys_size() == 0;
}

}  // namespace

bool CoversKey(const v1::TokenRecord& token, std::string_view key) {
  if (Unscoped(token) || UnderAPrefix(token, key)) return true;
  return std::find(token.keys().begin(), token.keys().end(), key) != token.keys().end();
}

bool CoversPrefix(const v1::TokenRecord& token, std::string_view prefix) {
  return Unscoped(token) || UnderAPrefix(token, prefix);
}

bool Caller::Covers(std::string_view key) const { return admin || CoversKey(token, key); }

absl::StatusOr<Caller> Authenticator::Authenticate(const grpc::ServerContextBase& context,
                                                   std::string_view explicit_token) const {
  std::string_view presented = explicit_token;
  if (presented.empty()) {
    const auto& metadata = context.client_metadata();
    auto it = metadata.find("authorization");
    if (it == metadata.end()) {
      return absl::UnauthenticatedError(
          "no credentials: send \"authorization: Bearer <admin cookie or service token>\"");
    }
    std::string_view value(it->second.data(), it->second.size());
    if (value.substr(0, kBearer.size()) != kBearer) {
      return absl::UnauthenticatedError("the authorization header must be \"Bearer <credential>\"");
    }
    presented = value.substr(kBearer.size());
  }
  Caller caller;
  if (ConstantTimeEquals(presented, admin_cookie_)) {
    caller.admin = true;
    return caller;
  }
  auto token = tokens_.Authenticate(presented, clock_.WallMs());
  if (!token.ok()) return token.status();
  caller.token = *std::move(token);
  return caller;
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status RequireAdmin(const Caller& caller) {
  if (caller.admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      fmt::format("token {} may not use the admin interface; it needs the admin cookie",
                  caller.token.id()));
}

absl::StatusOr<StoreAccess> OpenForCall(const grpc::ServerContextBase& context, Node& node,
                                        const Authenticator& auth, const AccessRequest& request) {
  auto caller = auth.Authenticate(context);
  if (!caller.ok()) return caller.status();
  auto descriptor = node.Resolve(std::string(request.store));
  if (!descriptor.ok()) {
    // A token must not learn which stores exist outside its scope.
    if (!caller->admin) {
      return absl::PermissionDeniedError(fmt::format(
          "token {} has no access to store {}", caller->token.id(), Quote(request.store)));
    }
    return descriptor.status();
  }
  std::string id = FormatStoreId(descriptor->id);
  if (!caller->admin) {
    const auto& token = caller->token;
    if (std::find(token.stores().begin(), token.stores().end(), id) == token.stores().end()) {
      return absl::PermissionDeniedError(
          fmt::format("token {} has no access to store {}", token.id(), id));
    }
    if (!TokenHasRight(token, request.right)) {
      return absl::PermissionDeniedError(fmt::format("token {} lacks the {} right on store {}",
                                                     token.id(), RightName(request.right), id));
    }
    auto check_key = [&](std::string_view key) -> absl::Status {
      if (CoversKey(token, key)) return absl::OkStatus();
      return absl::PermissionDeniedError(fmt::format(
          "token {} is limited to its prefixes and keys; {} is outside them", token.id(),
          Quote(key)));
    };
    if (request.scope.kind == KeyScope::Kind::kKey) {
      if (auto s = check_key(request.scope.value); !s.ok()) return s;
    }
    // Exact keys grant only themselves: a range or stream by prefix needs a granted prefix.
    if (request.scope.kind == KeyScope::Kind::kPrefix && !CoversPrefix(token, request.scope.value)) {
      return absl::PermissionDeniedError(fmt::format(
          "token {} is limited to its prefixes; every key under {} is not within them",
          token.id(), Quote(request.scope.value)));
    }
    if (request.scope.kind == KeyScope::Kind::kStore && !Unscoped(token)) {
      return absl::PermissionDeniedError(fmt::format(
          "token {} is limited to prefixes or keys, which give no access to a whole {} store",
          token.id(), StoreTypeName(descriptor->type)));
    }
    for (auto key : request.more_keys) {
      if (auto s = check_key(key); !s.ok()) return s;
    }
  }
  if (request.type) {
    bool ok = descriptor->type == *request.type ||
              (*request.type == StoreType::kKv && descriptor->type == StoreType::kRoot);
    if (!ok) {
      return absl::FailedPreconditionError(fmt::format(
          "store {} is a {} store; this call needs a {} store", descriptor->name,
          StoreTypeName(descriptor->type), StoreTypeName(*request.type)));
    }
  }
  if (request.right == Right::kWrite && descriptor->status == "archived") {
    return absl::FailedPreconditionError(
        fmt::format("store {} is archived; unarchive it to write", descriptor->name));
  }
  Store* store = node.StoreById(descriptor->id);
  if (store == nullptr) return absl::UnavailableError(fmt::format("store {} is not open", id));
  return StoreAccess{*std::move(descriptor), store, *std::move(caller)};
}

}  // namespace lattice::kernel
