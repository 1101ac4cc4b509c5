// The REST API's routes, one group per file (routes_*.cc), all answering through the kernel.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "src/api/router.h"
#include "src/kernel/event_feed.h"
#include "src/kernel/kernel_link.h"

namespace lattice::web {

struct ApiContext {
  KernelLink& link;
  FeedRegistry& feeds;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Whether the session cookie is marked Secure (lattice-web behind a TLS proxy).
  bool secure_cookie = false;
};

void AddSessionRoutes(Router& router, ApiContext& context);
void AddStoreRoutes(Router& router, ApiContext& context);
void AddKeyRoutes(Router& router, ApiContext& context);
void AddEventRoutes(Router& router, ApiContext& context);
void AddChatRoutes(Router& router, ApiContext& context);
void AddAdminRoutes(Router& router, ApiContext& context);

// Answers with the kernel's response as JSON (`status` on success) or its error as a problem.
template <typename Response>
std::function<void(grpc::Status, Response)> ReplyJson(std::shared_ptr<ApiCall> call,
                                                       int status = 200);

}  // namespace lattice::web

#include "src/api/routes_inl.h"
