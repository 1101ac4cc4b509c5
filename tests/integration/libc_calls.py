"""libc calls Python does not offer, for the FUSE mount tests."""
import ctypes
import ctypes.util
import os

LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
AT_FDCWD = -100
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _raise_errno(result, what):
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, "%s: %s" % (what, os.strerror(code)))


def renameat2(old, new, flags):
    LIBC.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
    _raise_errno(LIBC.renameat2(AT_FDCWD, old.encode(), AT_FDCWD, new.encode(), flags),
                 "renameat2")


def utimensat(path, atime, mtime):
    times = (Timespec * 2)(Timespec(*atime), Timespec(*mtime))
    _raise_errno(LIBC.utimensat(AT_FDCWD, path.encode(), times, 0), "utimensat")


def fallocate(fd, mode, offset, length):
    LIBC.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    _raise_errno(LIBC.fallocate(fd, mode, offset, length), "fallocate")


def getxattr_sized(path, name, size):
    LIBC.getxattr.restype = ctypes.c_ssize_t
    LIBC.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    buffer = ctypes.create_string_buffer(max(size, 1))
    n = LIBC.getxattr(path.encode(), name.encode(), buffer if size else None, size)
    if n < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return n
