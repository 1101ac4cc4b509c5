// Where a kernel's socket and admin cookie live by default (DESIGN §6), shared by the
// kernel and its clients so both find the same path.
#pragma once

#include <string>

namespace lattice {

// $LATTICE_DATA_DIR, else /var/lib/lattice when run by systemd (STATE_DIRECTORY),
// else $XDG_DATA_HOME/lattice, else ~/.local/share/lattice.
std::string DefaultDataDir();

// $LATTICE_SOCKET, else $RUNTIME_DIRECTORY/kernel.sock under systemd, else
// $XDG_RUNTIME_DIR/lattice/kernel.sock, else <data_dir>/kernel.sock.
std::string DefaultSocketPath(const std::string& data_dir);

// The admin cookie sits beside the socket and is named after it, so kernels whose sockets
// share a directory keep their own cookies: "admin.cookie" beside the default "kernel.sock",
// "<socket file name>.admin.cookie" beside any other socket.
std::string CookiePathForSocket(const std::string& socket_path);

}  // namespace lattice

namespace lattice {
// What a client dials when not told: $LATTICE_SOCKET, else the systemd unit's
// /run/lattice/kernel.sock when it exists, else DefaultSocketPath(DefaultDataDir()).
std::string DefaultClientSocketPath();
}  // namespace lattice
