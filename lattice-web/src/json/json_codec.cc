#include "src/json/json_codec.h"

#include <google/protobuf/util/json_util.h>

#include <fmt/format.h>

#include "lattice/common/base64.h"
#include "lattice/common/utf8.h"

namespace lattice::web {

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(text, nullptr, false);
}

absl::Status JsonToProto(const nlohmann::json& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json.dump(), message, options);
  if (!status.ok()) {
    std::string why(status.message().data(), status.message().size());
    return absl::InvalidArgumentError("the JSON body does not fit: " + why);
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view body) {
  try {
    nlohmann::json json = nlohmann::json::parse(body);
    if (!json.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
    return json;
  } catch (const nlohmann::json::parse_error& error) {
    return absl::InvalidArgumentError(
        fmt::format("the body is not valid JSON: at byte {}: {}", error.byte,
                    body.empty() ? "it is empty" : "unexpected input"));
  }
}

void SetBytes(nlohmann::json& object, const std::string& name, std::string_view bytes) {
  if (IsValidUtf8(bytes)) object[name] = std::string(bytes);
  object[name + "_base64"] = ToBase64(bytes);
}

absl::StatusOr<std::optional<std::string>> GetBytes(const nlohmann::json& object,
                                                     const std::string& name) {
  auto text = object.find(name);
  auto encoded = object.find(name + "_base64");
  if (text != object.end() && encoded != object.end()) {
    return absl::InvalidArgumentError(
        fmt::format("give either \"{0}\" or \"{0}_base64\", not both", name));
  }
  if (text != object.end()) {
    if (!text->is_string()) {
      return absl::InvalidArgumentError(fmt::format("\"{}\" must be a string", name));
    }
    return std::optional<std::string>(text->get<std::string>());
  }
  if (encoded != object.end()) {
    if (!encoded->is_string()) {
      return absl::InvalidArgumentError(fmt::format("\"{}_base64\" must be a string", name));
    }
    auto bytes = FromBase64(encoded->get_ref<const std::string&>());
    if (!bytes) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}_base64\" is not valid base64 (RFC 4648, padded)", name));
    }
    return std::optional<std::string>(*std::move(bytes));
  }
  return std::optional<std::string>();
}

}  // namespace lattice::web
