// A response whose body is written over time (server-sent events), as handlers see it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace lattice::web::http {

// A server-sent-events (or any streamed) response in progress. Thread-safe: every method may be
// called from any thread.
class Stream {
 public:
  virtual ~Stream() = default;
  // Queues bytes for the client. Returns false (and writes nothing) once the client is gone,
  // or when the bytes queued but not yet written would exceed the per-stream buffer limit —
  // in that case the server closes the connection (a client that never reads is dropped).
  virtual bool Write(std::string bytes) = 0;
  // Ends the response (and the connection) once what was queued is written.
  virtual void Close() = 0;
  // Called once, on some thread, when the client goes away or the stream is closed (also if
  // it already happened: then called at once). Used to cancel the kernel watch feeding it.
  // Several callbacks may be registered; each is called once.
  virtual void OnClosed(std::function<void()> callback) = 0;
  virtual size_t buffered_bytes() const = 0;
};

}  // namespace lattice::web::http
