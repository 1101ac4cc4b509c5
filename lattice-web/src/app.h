// Runs lattice-web until SIGTERM or SIGINT: the HTTP server, the kernel link, the shared
// event feeds and the page. Returns the process's exit status.
#pragma once

#include "src/web_options.h"

namespace lattice::web {

int RunWeb(const WebOptions& options);

}  // namespace lattice::web
