"""OpenAPI fragments the images views share: file bodies, conditions, versions, links."""

from pixtag.imaging import ACCEPTED
from pixtag.openapi.fragments import header, header_parameter

IMAGE_PART = {"contentType": ", ".join(sorted(set(ACCEPTED.values())))}
FILE_BODY = {"image/*": {"schema": {"type": "string", "format": "binary"}}}
LOCATION = header("The URL of the new resource.", format="uri-reference")
REDIRECT = {"302": {"headers": {"Location": header("The file's URL.", format="uri-reference")}}}
CONDITIONS = [
    header_parameter("If-Match", "ETags (strong comparison) or *: 412 unless the file has one."),
    header_parameter(
        "If-Unmodified-Since", "An HTTP date, read without If-Match: 412 if modified since."
    ),
    header_parameter("If-None-Match", "ETags: 304 when the file still has one of them."),
    header_parameter("If-Modified-Since", "An HTTP date: 304 when not modified since."),
]
# The record's version, for the writes that take If-Match.
DUPLICATE_OF = {
    "Pixtag-Duplicate-Of": header(
        "The ids of the answer's ``near_duplicates`` (comma-separated, nearest first):"
        " images whose file has the same bytes already and, with ``check_similar=true``,"
        " the same pixels or the same picture. Absent when there are none."
    )
}
VERSION = {"ETag": header('The image record\'s version, e.g. "v3", for If-Match.')}
IF_MATCH = [
    header_parameter(
        "If-Match",
        'The ETag of a read (e.g. "v3"): change only that version, else 412. * or none:'
        " whatever the version.",
    )
]
# What a client can do next with the image in a response body.
BY_ID = {"image_id": "$response.body#/image_id"}
BY_FILE = {**BY_ID, "filename": "$response.body#/filename"}
IMAGE_LINKS = {
    "GetImage": {"operationId": "getImage", "parameters": BY_ID},
    "UploadAttachment": {"operationId": "uploadAttachment", "parameters": BY_FILE},
    "UpdateImage": {"operationId": "updateImage", "parameters": BY_ID},
}
FILE_LINKS = {
    "GetAttachment": {"operationId": "getAttachment", "parameters": BY_FILE},
    "HeadAttachment": {"operationId": "headAttachment", "parameters": BY_FILE},
}
FILE_HEADERS = {
    "ETag": header("The file's version, for If-None-Match."),
    "Last-Modified": header("When the file was stored, for If-Modified-Since."),
    "Cache-Control": header("public, max-age=31536000, immutable: a key's bytes never change."),
    "Content-Disposition": header("inline, with the image's filename (RFC 6266 filename*)."),
}
NOT_MODIFIED_HEADERS = {
    "ETag": FILE_HEADERS["ETag"],
    "Last-Modified": FILE_HEADERS["Last-Modified"],
    "Cache-Control": FILE_HEADERS["Cache-Control"],
}
