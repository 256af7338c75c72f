"""Keep freed memory inside the process, so a fusion network's full-size activations are not page-faulted anew.

glibc's malloc serves every block above its mmap threshold (at most 32 MiB) straight from the kernel and gives it
back on free. A full-resolution fusion net allocates such blocks in every layer, so each call maps, zero-fills and
unmaps them again: for ``tsjnet_lite`` at 480x640 on 2 cores that was about a quarter of the forward time (measured
in `tsjnet bench`'s edge section). Serving every allocation from the heap and never trimming it lets the next call
reuse the same pages; the peak memory stays what it was, it is only not handed back between calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
#: free memory at the top of the heap is handed back to the kernel only above this size
_TRIM_THRESHOLD = 1 << 30


@cache
def keep_freed_memory() -> bool:
    """Make this process reuse freed memory (glibc on Linux; elsewhere nothing changes). True when applied.

    Called by the inference loaders (`tsjnet.registry.checkpoint.for_inference`); once per process.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is None:  # another libc (musl) has no mallopt
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
