// One request and its eventual answer, and the handler that lattice-web gives the server.
#pragma once

#include <functional>
#include <memory>

#include "src/http/request.h"
#include "src/http/response.h"
#include "src/http/stream.h"

namespace lattice::web::http {

// One request and its eventual answer. Handlers may answer later, from any thread (the
// kernel's gRPC callbacks): the server does not block or need a thread per pending request.
// An exchange dropped without an answer is answered 500.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const Request& request() const = 0;
  virtual void Respond(Response response) = 0;  // once; later calls are ignored
  // Sends status + headers (no Content-Length; for SSE "Content-Type: text/event-stream",
  // "Cache-Control: no-store") and returns the stream to write the body to. The connection is
  // not reused after a stream. Counts as the answer: a later Respond is ignored, and a
  // StartStream after Respond returns a stream that is already closed.
  virtual std::shared_ptr<Stream> StartStream(Response head) = 0;
};

// Called on an io thread for each request; must not block (answer later instead). With
// ServerOptions::threads > 1 it runs concurrently for different connections. A handler that
// throws gets a 500 problem sent for it.
using Handler = std::function<void(std::shared_ptr<Exchange>)>;

}  // namespace lattice::web::http
