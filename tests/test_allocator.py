"""The inference loaders make glibc keep freed memory: applied once, and a no-op answer elsewhere."""

from __future__ import annotations

import sys

import pytest

from tsjnet.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")
def test_glibc_accepts_the_settings_once_per_process() -> None:
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # cached: the second call does not call mallopt again
    assert keep_freed_memory.cache_info().hits >= 1
