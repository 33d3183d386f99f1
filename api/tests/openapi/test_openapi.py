"""openapi.json: committed, identical to what the code generates, valid and complete."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from pixtag import openapi
from pixtag.app import create_app
from pixtag.openapi.document import operations

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "openapi.json"
REGENERATE = 'run: python -m aiohttp_pydantic.oas "pixtag.app:create_app()" -o openapi.json'


def committed() -> dict:
    return json.loads(COMMITTED.read_text())


def test_committed_openapi_json_is_what_the_code_generates():
    generated = openapi.render(openapi.generate([create_app()]))
    assert COMMITTED.read_text() == generated, f"openapi.json is stale; {REGENERATE}"


# Set iteration order changes with the hash seed; the document must not.
@pytest.mark.parametrize("hash_seed", ["0", "1", "2"])
def test_aiohttp_pydantic_command_writes_the_committed_document(tmp_path, hash_seed):
    out = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "-m", "aiohttp_pydantic.oas", "pixtag.app:create_app()", "-o", out],
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    )
    assert out.read_text() == COMMITTED.read_text()


def test_the_seed_spelling_prints_the_committed_document(tmp_path):
    """``python -m aiohttp_pydantic.oas pixtag.wsgi:app``, as the seed's README has it."""
    done = subprocess.run(
        [sys.executable, "-m", "aiohttp_pydantic.oas", "pixtag.wsgi:app"],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert json.loads(done.stdout) == committed()
    assert list(tmp_path.iterdir()) == []


def test_pixtag_openapi_command_writes_the_committed_document(tmp_path):
    out = tmp_path / "openapi.json"
    pixtag = Path(sys.executable).with_name("pixtag")
    subprocess.run([pixtag, "openapi", "-o", out], check=True, cwd=tmp_path)
    assert out.read_text() == COMMITTED.read_text()


async def test_live_spec_is_the_committed_document(client):
    resp = await client.get("/oas/spec")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == committed()


def test_openapi_json_is_a_valid_openapi_document():
    validate(committed())


def test_info_names_pixtag_and_its_version():
    import pixtag

    info = committed()["info"]
    assert info["title"] == "pixtag"
    assert info["version"] == pixtag.__version__


# Operations a browser's form posts to: their answers, errors included, are HTML pages.
PAGES = {"openSharePage"}


def test_every_operation_has_an_id_and_documents_its_errors_as_problem_json():
    spec = committed()
    ids = []
    for method, path, operation in operations(spec):
        ids.append(operation.get("operationId"))
        assert operation.get("responses"), f"{method} {path}"
        for status, response in operation["responses"].items():
            assert response["description"], f"{method} {path} {status}"
            if int(status) >= 400:
                content = dict(response.get("content", {}))
                if status == "400":
                    # aiohttp's parser refuses oversized request lines before pixtag runs.
                    assert content.pop("text/plain") == {"schema": {"type": "string"}}
                    if not content:
                        continue  # the health probes refuse nothing themselves
                if operation.get("operationId") in PAGES and list(content) == ["text/html"]:
                    continue  # a page's errors are pages, which say what went wrong
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
        if operation.get("parameters") or "requestBody" in operation:
            assert "400" in operation["responses"], f"{method} {path} validates but has no 400"
    assert None not in ids
    assert len(set(ids)) == len(ids)


def test_create_image_documents_its_json_body_and_location():
    operation = committed()["paths"]["/images"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ImageCreate"
    }
    created = operation["responses"]["201"]
    assert "Location" in created["headers"]
    assert created["links"]["GetImage"]["operationId"] == "getImage"


def test_image_id_parameter_has_its_bounds():
    (parameter,) = committed()["paths"]["/images/{image_id}"]["get"]["parameters"]
    assert parameter["in"] == "path"
    assert parameter["schema"]["minimum"] == 1
    assert parameter["schema"]["maximum"] == 2**63 - 1


def test_nullable_attachment_is_expressed_the_openapi_3_0_way():
    attachment = committed()["components"]["schemas"]["Image"]["properties"]["attachment"]
    assert attachment == {"allOf": [{"$ref": "#/components/schemas/Attachment"}], "nullable": True}


def test_both_upload_paths_document_their_multipart_bodies():
    paths = committed()["paths"]
    create = paths["/images"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert create["schema"]["required"] == ["meta", "image"]
    assert create["schema"]["properties"]["image"] == {"type": "string", "format": "binary"}
    assert create["encoding"]["meta"]["contentType"] == "application/json"
    attach = paths["/images/{image_id}/attachment/{filename}"]["post"]["requestBody"]
    schema = attach["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["image"]
    assert schema["additionalProperties"] is False


def test_attachment_redirect_documents_its_location_and_no_body():
    for method in ("get", "head"):
        redirect = committed()["paths"]["/images/{image_id}/attachment/{filename}"][method]
        found = redirect["responses"]["302"]
        assert "Location" in found["headers"]
        assert "content" not in found


def test_media_documents_image_bytes_ranges_and_conditions():
    media = committed()["paths"]["/media/{image_id}/{name}"]["get"]
    names = [parameter["name"] for parameter in media["parameters"]]
    assert {"Range", "If-None-Match", "If-Modified-Since"} <= set(names)
    for status in ("200", "206"):
        assert media["responses"][status]["content"] == {
            "image/*": {"schema": {"type": "string", "format": "binary"}}
        }
    assert "Content-Range" in media["responses"]["206"]["headers"]
    assert "content" not in media["responses"]["304"]
    headers = media["responses"]["200"]["headers"]
    assert "immutable" in headers["Cache-Control"]["description"]
    assert "filename" in headers["Content-Disposition"]["description"]
    assert "Location" in media["responses"]["302"]["headers"]


def test_listing_documents_the_seed_shape_and_ndjson():
    spec = committed()
    listing = spec["paths"]["/images"]["get"]
    content = listing["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Listing"}
    shape = spec["components"]["schemas"]["Listing"]
    assert shape["type"] == "array"
    assert shape["items"]["anyOf"] == [
        {"type": "array", "items": {"$ref": "#/components/schemas/Image"}},
        {"$ref": "#/components/schemas/ListingTotals"},
    ]
    assert spec["components"]["schemas"]["ListingTotals"]["required"] == [
        "totalImages",
        "totalChunks",
    ]
    assert content["application/x-ndjson"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Image"
    }


def test_listing_parameters_carry_their_constraints():
    listing = committed()["paths"]["/images"]["get"]
    parameters = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert set(parameters) == {
        "tag",
        "tags_all",
        "tags_any",
        "tags_none",
        "q",
        "sha256",
        "chunk_size",
        "after_id",
        "limit",
        "after",
    }
    assert parameters["tags_all"]["schema"]["items"]["pattern"]
    assert parameters["tags_none"]["schema"]["items"]["pattern"]
    assert "binds looser than juxtaposition" in parameters["q"]["description"]
    assert parameters["after"]["schema"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert parameters["sha256"]["schema"]["pattern"]
    assert parameters["chunk_size"]["schema"]["minimum"] == 1
    assert parameters["chunk_size"]["schema"]["maximum"] == 10_000


async def test_an_oversized_request_line_is_refused_in_text_plain_as_documented(client):
    resp = await client.get("/images", params={"tag": "x" * 9000})
    assert resp.status == 400
    assert resp.content_type == "text/plain"
    described = committed()["paths"]["/images"]["get"]["responses"]["400"]
    assert "text/plain" in described["content"]
    assert "8190 bytes" in described["description"]
