"""One download, from a URL to a received (spooled, identified) image, or a job failure.

What went wrong decides whether the capture is tried again: a refused
address, a 4xx, a file too large or not an image fail it for good; a 5xx, a
429 (after its ``Retry-After``), a timeout or a lost connection are
retried by the job engine with backoff.
"""

import asyncio
import email.utils
import time

import aiohttp

from pixtag.errors import InsufficientStorage, PayloadTooLarge, UnsupportedMediaType
from pixtag.images.ingest import Ingest, Received
from pixtag.jobs.errors import Permanent, Transient
from pixtag.net.fetch import Fetcher
from pixtag.net.guard import Refused

READ_SIZE = 64 * 1024


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def check_status(response: aiohttp.ClientResponse) -> None:
    status = response.status
    if status == 200:
        return
    message = f"the server answered {status} {response.reason or ''}".strip()
    if status == 429:
        hint = retry_after(response.headers.get("Retry-After"))
        raise Transient("http_429", message, retry_after=hint)
    if status >= 500:
        raise Transient(f"http_{status}", message)
    raise Permanent(f"http_{status}", message)


OUT_OF_TIME = "the capture did not finish within PIXTAG_CAPTURE_MAX_TIME over its attempts"


async def download(
    fetcher: Fetcher, ingest: Ingest, url: str, *, left: float | None = None
) -> Received:
    """Fetch ``url`` into the ingest's spool and identify it, within the fetcher's total
    timeout, or ``left`` seconds (what the capture has left) if that is shorter."""
    limit = ingest.limits.max_size
    bound = fetcher.timeouts.total if left is None else min(left, fetcher.timeouts.total)
    try:
        async with asyncio.timeout(bound):
            async with fetcher.get(url) as response:
                check_status(response)
                length = response.content_length
                if length is not None and length > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes")
                return await ingest.receive(response.content.iter_chunked(READ_SIZE))
    except Refused as error:
        raise Permanent(error.code, error.message) from None
    except PayloadTooLarge as error:
        raise Permanent("too_large", error.detail) from None
    except UnsupportedMediaType as error:
        raise Permanent("not_an_image", error.detail) from None
    except InsufficientStorage as error:
        raise Transient("storage_full", error.detail) from None
    except aiohttp.InvalidURL:
        raise Permanent("invalid_url", "the URL is not valid") from None
    except TimeoutError:
        if bound < fetcher.timeouts.total:
            raise Permanent("out_of_time", OUT_OF_TIME) from None
        raise Transient("timeout", "the download took too long") from None
    except aiohttp.ClientError as error:
        raise Transient("connection", f"the download failed: {type(error).__name__}") from None
