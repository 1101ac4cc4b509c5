// ArenaMessageAllocator: each call's request and response live in one arena of their own, so
// a parsed Batch's keys and values are freed with it at once.
#include <gtest/gtest.h>

#include "lattice/v1/store_protocol.pb.h"
#include "rpc/arena_allocator.h"

namespace lattice::kernel::testing {
namespace {

TEST(ArenaMessageAllocatorTest, EachCallsMessagesShareAnArenaOfTheirOwn) {
  ArenaMessageAllocator<v1::BatchRequest, v1::WriteResult> allocator;
  grpc::MessageHolder<v1::BatchRequest, v1::WriteResult>* first = allocator.AllocateMessages();
  grpc::MessageHolder<v1::BatchRequest, v1::WriteResult>* second = allocator.AllocateMessages();
  ASSERT_NE(first->request()->GetArena(), nullptr);
  EXPECT_EQ(first->request()->GetArena(), first->response()->GetArena());
  EXPECT_NE(first->request()->GetArena(), second->request()->GetArena());

  v1::BatchRequest sent;
  sent.set_store("s");
  for (int i = 0; i < 64; ++i) {
    v1::BatchOp* op = sent.add_ops();
    op->set_key("key-" + std::to_string(i));
    op->set_value(std::string(128, 'v'));
  }
  ASSERT_TRUE(first->request()->ParseFromString(sent.SerializeAsString()));
  EXPECT_EQ(first->request()->ops(63).key(), "key-63");
  EXPECT_EQ(first->request()->ops(0).GetArena(), first->request()->GetArena());
  first->response()->set_cursor(7);
  first->Release();  // the arena and everything in it, at once (ASan checks the frees)
  second->Release();
}

}  // namespace
}  // namespace lattice::kernel::testing
