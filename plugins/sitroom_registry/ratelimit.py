"""The registry's rate limits use the core's token buckets (`sitroom.ratelimit`).

Kept as a module so the registry's imports read as before; the login page limits logins
with the same buckets, which is why they moved to the core.
"""

from __future__ import annotations

from sitroom.api import TokenBucketLimiter, bucket_key, client_address, retry_after

__all__ = ["TokenBucketLimiter", "bucket_key", "client_address", "retry_after"]
