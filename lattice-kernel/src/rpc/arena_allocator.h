// The request and response of a unary callback method allocated in a protobuf arena of their
// own, freed at once when gRPC releases the call: a Batch of 64 puts parses into some 130
// strings and messages, which the default allocator makes and frees one by one.
#pragma once

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace lattice::kernel {

// Thread-safe (it holds nothing); outlives the server, as gRPC requires.
template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    // A lone put fits the first block; a batch's blocks grow to the largest.
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 4 << 10;
      options.max_block_size = 64 << 10;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace lattice::kernel
