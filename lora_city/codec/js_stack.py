"""How much C stack the calling thread has, so QuickJS may recurse as deep as the thread allows and no deeper.

QuickJS runs a JavaScript call on the C stack of the Python thread that calls it (about 1.6 kB per JavaScript call
level). A limit larger than the real stack would let a recursive codec crash the process (SIGSEGV) instead of
raising "Maximum call stack size exceeded"; a small one stops ordinary recursive decoders early (the old fixed
256 kB stopped at ~150 levels where node goes past 11,000). So each context takes the room its own thread has,
read once per thread with ``pthread_getattr_np`` (glibc), minus a margin for the Python frames under the call.
"""

from __future__ import annotations

import ctypes
import sys
import threading

# Below this the margin would eat the stack; such threads (musl's 128 kB default) keep QuickJS's small default.
_MARGIN = 1024 * 1024
FALLBACK = 256 * 1024

_local = threading.local()


def _libc() -> ctypes.CDLL:
    # glibc's soname first: find_library runs ldconfig in a subprocess (~10 ms at every command's start)
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        from ctypes.util import find_library

        return ctypes.CDLL(find_library("c"), use_errno=True)


def _pthread_stack_size() -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = _libc()
        attr = ctypes.create_string_buffer(128)  # sizeof(pthread_attr_t) is 56 on x86-64 glibc; room to spare
        libc.pthread_self.restype = ctypes.c_ulong
        libc.pthread_getattr_np.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
        libc.pthread_attr_getstack.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        libc.pthread_attr_destroy.argtypes = [ctypes.c_void_p]
        self_id = libc.pthread_self()
        if libc.pthread_getattr_np(self_id, attr) != 0:
            return None
        try:
            addr, size = ctypes.c_void_p(), ctypes.c_size_t()
            if libc.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size)) != 0:
                return None
            return int(size.value)
        finally:
            libc.pthread_attr_destroy(attr)
    except (OSError, AttributeError):
        return None


def thread_stack_room() -> int:
    """Bytes of C stack this thread can give QuickJS (cached per thread)."""
    room: int | None = getattr(_local, "room", None)
    if room is None:
        size = _pthread_stack_size()
        room = size - _MARGIN if size is not None and size > 2 * _MARGIN else FALLBACK
        _local.room = room
    return room
