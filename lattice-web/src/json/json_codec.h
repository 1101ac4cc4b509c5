// JSON for the REST API: kernel messages in protobuf's JSON mapping (the field names of the
// .proto files), byte strings as text when they are UTF-8 and always as base64 beside it,
// and request bodies parsed with errors that name the problem.
#pragma once

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lattice::web {

// Every field, defaults included, with the .proto's own (snake_case) names.
nlohmann::json ProtoToJson(const google::protobuf::Message& message);

// Fills `message` from a JSON object; INVALID_ARGUMENT naming the field on a wrong type or
// an unknown field.
absl::Status JsonToProto(const nlohmann::json& json, google::protobuf::Message* message);

// Parses a request body as a JSON object; INVALID_ARGUMENT naming where it breaks.
absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view body);

// Sets `name` to the bytes as a string when they are UTF-8, and `name`_base64 always.
void SetBytes(nlohmann::json& object, const std::string& name, std::string_view bytes);

// Reads bytes given as `name` (text) or `name`_base64; nullopt when neither is present.
absl::StatusOr<std::optional<std::string>> GetBytes(const nlohmann::json& object,
                                                     const std::string& name);

}  // namespace lattice::web
