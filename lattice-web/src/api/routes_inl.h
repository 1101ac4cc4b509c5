#pragma once

#include "src/json/json_codec.h"

namespace lattice::web {

template <typename Response>
std::function<void(grpc::Status, Response)> ReplyJson(std::shared_ptr<ApiCall> call, int status) {
  return [call = std::move(call), status](grpc::Status result, Response response) {
    if (!result.ok()) {
      call->Fail(result);
      return;
    }
    call->Json(status, ProtoToJson(response));
  };
}

}  // namespace lattice::web
