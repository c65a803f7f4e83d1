"""The asset pack: fetch pinned public sources, build the processed pack into the cache, read it."""
