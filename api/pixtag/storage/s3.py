"""The S3 backend: stored files in a bucket (AWS, or SeaweedFS/MinIO on site).

With S3, a pixtag server keeps no file state of its own, and clients fetch
bytes straight from the bucket through short-lived presigned URLs, so the
bucket stays private and pixtag never proxies image bytes. Uploads are
streamed from the spool file in parts, so memory stays bounded whatever the
file size; an upload that fails is aborted, and ``sweep_incomplete`` removes
what a dead process could not abort.

Keys are never reused (``pixtag.storage.keys``: each has a random part), so
``put`` cannot overwrite an existing object and checks nothing before writing.
"""

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Self

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from pixtag.storage.backend import StoredObject
from pixtag.storage.disposition import content_disposition

if TYPE_CHECKING:  # types-aiobotocore-s3: for type checking only
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

# Files up to this size go up in one PutObject; larger ones in parts of this
# size, read one at a time, so an upload holds at most one part in memory.
PART_SIZE = 8 * 1024 * 1024
READ_CHUNK = 256 * 1024


@functools.cache
def session() -> AioSession:
    """The process's one botocore session: its loader reads S3's service description (a
    large JSON document) once, not again for every client a start, a worker or a command
    makes. A session holds no connection and no event loop; its clients do."""
    return get_session()


def plain_http(endpoint_url: str | None) -> bool:
    return endpoint_url is not None and endpoint_url.lower().startswith("http://")


class StorageUnavailable(Exception):
    """The bucket cannot be reached with the configured endpoint and credentials."""


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _reason(error: Exception) -> str:
    """A short description of a failed request: ``403 Forbidden``, ``Could not connect ...``."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', '?')} {details.get('Message', '')}".strip()
    return str(error)


class S3Storage:
    """Stored files as objects under a prefix of one bucket, served by presigned URLs."""

    def __init__(
        self,
        client: "S3Client",
        exit_stack: AsyncExitStack,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        presign_expires: int,
        spool_dir: Path,
    ) -> None:
        self._client = client
        self._exit_stack = exit_stack
        self._bucket = bucket
        self._prefix = _normalise_prefix(prefix)
        self._endpoint_url = endpoint_url
        self._presign_expires = presign_expires
        self._spool_dir = spool_dir

    @classmethod
    async def open(
        cls,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        presign_expires: int,
        spool_dir: Path,
    ) -> Self:
        """An open storage once the bucket has answered; else ``StorageUnavailable``."""
        config = AioConfig(
            signature_version="s3v4",
            # SeaweedFS and MinIO serve buckets by path, not as subdomains.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
        )
        exit_stack = AsyncExitStack()
        client = await exit_stack.enter_async_context(
            session().create_client(
                "s3",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
                # A plain-HTTP endpoint (a bucket on site) has no certificate to verify: no
                # certificate store is loaded for it.
                verify=False if plain_http(endpoint_url) else None,
            )
        )
        storage = cls(
            client,
            exit_stack,
            bucket=bucket,
            prefix=prefix,
            endpoint_url=endpoint_url,
            presign_expires=presign_expires,
            spool_dir=spool_dir,
        )
        try:
            await client.head_bucket(Bucket=bucket)
        except (ClientError, BotoCoreError) as error:
            await exit_stack.aclose()
            where = endpoint_url or "AWS"
            raise StorageUnavailable(
                f"cannot reach S3 bucket {bucket!r} at {where}: {_reason(error)}"
            ) from error
        except BaseException:
            await exit_stack.aclose()
            raise
        return storage

    @property
    def description(self) -> str:
        """Where files go: ``s3://bucket/prefix at <endpoint>``."""
        return f"s3://{self._bucket}/{self._prefix} at {self._endpoint_url or 'AWS'}"

    @property
    def media_url(self) -> str | None:
        """None: the bucket is private, files are reached through the API's redirect."""
        return None

    @property
    def root(self) -> None:
        return None

    @property
    def urls_expire(self) -> bool:
        return True  # presigned

    def local_path(self, key: str) -> None:
        return None

    @property
    def spool_dir(self) -> Path:
        """The local directory for files being received."""
        return self._spool_dir

    async def put(self, spooled: Path, key: str, content_type: str) -> None:
        """Upload ``spooled`` as ``key``: one request up to ``PART_SIZE``, else in parts."""
        size = (await asyncio.to_thread(spooled.stat)).st_size
        name = self._prefix + key
        if size > PART_SIZE:
            await self._put_multipart(spooled, name, content_type)
            return
        body = await asyncio.to_thread(spooled.read_bytes)
        await self._client.put_object(
            Bucket=self._bucket, Key=name, Body=body, ContentType=content_type
        )

    async def _put_multipart(self, spooled: Path, name: str, content_type: str) -> None:
        # Parts carry a CRC32 (botocore adds one by default); AWS accepts them
        # only when the upload was created with that algorithm.
        upload = await self._client.create_multipart_upload(
            Bucket=self._bucket, Key=name, ContentType=content_type, ChecksumAlgorithm="CRC32"
        )
        upload_id = upload["UploadId"]
        try:
            parts: list[CompletedPartTypeDef] = []
            # Opened on the loop (an open reads no data): a cancellation while a thread
            # opened it would drop the open file unclosed.
            file = spooled.open("rb")
            try:
                while chunk := await asyncio.to_thread(file.read, PART_SIZE):
                    number = len(parts) + 1
                    part = await self._client.upload_part(
                        Bucket=self._bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ChecksumAlgorithm="CRC32",
                    )
                    del chunk  # not kept in memory while the next part is read
                    completed: CompletedPartTypeDef = {"PartNumber": number, "ETag": part["ETag"]}
                    if "ChecksumCRC32" in part:
                        completed["ChecksumCRC32"] = part["ChecksumCRC32"]
                    parts.append(completed)
            finally:
                await asyncio.to_thread(file.close)
            await self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            await asyncio.shield(self._abort(name, upload_id))
            raise

    async def _abort(self, name: str, upload_id: str) -> None:
        """Abort a multipart upload, best effort (``sweep_incomplete`` retries later)."""
        try:
            await self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=name, UploadId=upload_id
            )
        except (ClientError, BotoCoreError) as error:
            log.warning("could not abort the upload of %s: %s", name, _reason(error))

    async def delete(self, key: str) -> None:
        """Delete ``key`` (S3 answers a missing key as a success)."""
        await self._client.delete_object(Bucket=self._bucket, Key=self._prefix + key)

    async def url(self, key: str, *, filename: str, content_type: str) -> str:
        """A presigned GET URL that also signs the response's Content-Type and Disposition."""
        return await self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._prefix + key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=self._presign_expires,
        )

    async def objects(self) -> AsyncIterator[StoredObject]:
        """Every object under the prefix (incomplete multipart uploads are not objects)."""
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
            for item in page.get("Contents", []):
                yield StoredObject(
                    key=item["Key"][len(self._prefix) :],
                    modified=item["LastModified"].timestamp(),
                    size=item["Size"],
                )

    async def read(self, key: str) -> AsyncIterator[bytes]:
        """The bytes of ``key`` in chunks; ``FileNotFoundError`` when it is missing."""
        try:
            response = await self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
        except self._client.exceptions.NoSuchKey as error:
            raise FileNotFoundError(key) from error
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk

    async def sweep_incomplete(self, cutoff: float) -> list[str]:
        """Abort the multipart uploads started before ``cutoff``; return their keys."""
        stale: list[tuple[str, str]] = []
        paginator = self._client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() < cutoff:
                    stale.append((upload["Key"], upload["UploadId"]))
        swept = []
        for name, upload_id in stale:
            try:
                await self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=name, UploadId=upload_id
                )
            except self._client.exceptions.NoSuchUpload:
                continue  # completed or aborted meanwhile
            swept.append(name[len(self._prefix) :])
        return swept

    async def close(self) -> None:
        """Close the client and its connections."""
        await self._exit_stack.aclose()
