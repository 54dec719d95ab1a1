"""Upload limits: an oversized request is refused with 413 before Django reads it, and a
contact file wider than the column limit is refused before it is stored."""

import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from campaigns.importing import ImportFileError, contacts_import
from campaigns.models import Contact, ImportJob, Organization
from tests.factories import OrganizationFactory
from voiceops.asgi import application

MB = 1024 * 1024
WIDE_HEADER = "phone," + ",".join(f"extra_{number}" for number in range(1, 10_000))


def stored_files(tmp_path) -> list:
    return [path for path in tmp_path.rglob("*") if path.is_file()]


def multipart_body(fields: dict) -> bytes:
    return encode_multipart(BOUNDARY, fields)


async def asgi_post(path: str, chunks: list[bytes], *, headers: list[tuple[bytes, bytes]]):
    """POST through the real ASGI application, the body sent in `chunks`; returns the
    response's status, headers and body, and how many chunks the application read."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 443),
    }
    communicator = ApplicationCommunicator(application, scope)
    for index, chunk in enumerate(chunks):
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        )
    start = await communicator.receive_output(timeout=30)
    body = b""
    while True:
        message = await communicator.receive_output(timeout=30)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    unread = communicator.input_queue.qsize()
    await communicator.wait(timeout=30)
    return start["status"], dict(start["headers"]), body, len(chunks) - unread


@sync_to_async
def counts() -> tuple[int, int]:
    return ImportJob.objects.count(), Contact.objects.count()


transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@transactional
@pytest.mark.parametrize(
    "path",
    [
        "/api/contacts/import/",
        "/api/suppressions/import/",
        "/admin/campaigns/contact/import/",
        "/admin/campaigns/suppression/import/",
    ],
)
async def test_a_200_mb_upload_is_refused_with_413_before_its_body_is_read(path, tmp_path):
    first_chunk = multipart_body({"file": SimpleUploadedFile("big.csv", b"phone\n" * 1000)})

    status, headers, body, chunks_read = await asgi_post(
        path,
        [first_chunk, b"3055550100\n" * 1000],
        headers=[
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", str(200 * MB).encode()),
        ],
    )

    assert status == 413
    text = body.decode()
    assert "The upload is 200.0 MB, larger than the limit of 50.0 MB" in text
    assert "MAX_UPLOAD_MB" in text
    assert chunks_read == 0
    assert await counts() == (0, 0)
    assert stored_files(tmp_path) == []
    if path.startswith("/api/"):
        assert headers[b"content-type"] == b"application/json"
        assert json.loads(body)["errors"][0]["field"] == "file"


@transactional
async def test_a_body_without_a_declared_length_is_refused_once_it_passes_the_limit(
    settings, tmp_path
):
    settings.MAX_UPLOAD_BYTES = 64 * 1024
    rows = "".join(f"30555{number:05d},Name {number}\n" for number in range(8000))
    body = multipart_body({"file": SimpleUploadedFile("big.csv", ("phone,name\n" + rows).encode())})
    chunks = [body[start : start + 16 * 1024] for start in range(0, len(body), 16 * 1024)]

    status, _, response, chunks_read = await asgi_post(
        "/api/contacts/import/",
        chunks,
        headers=[(b"content-type", MULTIPART_CONTENT.encode())],
    )

    assert len(body) > 2 * settings.MAX_UPLOAD_BYTES
    assert status == 413
    assert "larger than the limit of 0.1 MB" in json.loads(response)["errors"][0]["message"]
    assert chunks_read < len(chunks)
    assert await counts() == (0, 0)
    assert stored_files(tmp_path) == []


@transactional
async def test_a_request_under_the_limit_reaches_the_application(settings):
    settings.MAX_UPLOAD_BYTES = 64 * 1024
    body = multipart_body(
        {"file": SimpleUploadedFile("small.csv", b"phone,name\n3055550100,Ana\n")}
    )
    chunks = [body[: len(body) // 2], body[len(body) // 2 :]]

    status, _, response, chunks_read = await asgi_post(
        "/twilio/status",
        chunks,
        headers=[(b"content-type", MULTIPART_CONTENT.encode())],
    )

    # The view ran, on the whole body: it refuses the missing Twilio signature itself.
    assert (status, response) == (403, b"Invalid Twilio signature.")
    assert chunks_read == 2


def operators_organization() -> Organization:
    """The organisation the operator works in, where users belong to one; else a new one."""
    return Organization.objects.order_by("pk").first() or OrganizationFactory()


@pytest.mark.django_db
def test_a_contact_csv_with_10000_columns_is_refused_by_the_api_naming_the_limit(
    operator_api, tmp_path
):
    organization = operators_organization()
    upload = SimpleUploadedFile("wide.csv", f"{WIDE_HEADER}\n3055550100\n".encode())

    response = operator_api.post(
        "/api/contacts/import/", {"file": upload, "organization": organization.pk}
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "field": "file",
                "message": "The file has 10,000 columns; a contact file may have at most 200 "
                "(CONTACT_CSV_MAX_COLUMNS). Keep the known columns and the template variables "
                "your agents use, and remove the others.",
            }
        ]
    }
    assert (ImportJob.objects.count(), Contact.objects.count()) == (0, 0)
    assert stored_files(tmp_path) == []


@pytest.mark.django_db
def test_a_contact_csv_with_10000_columns_is_refused_in_the_admin_upload_form(
    client, operator, tmp_path
):
    organization = operators_organization()
    client.force_login(operator)
    upload = SimpleUploadedFile("wide.csv", f"{WIDE_HEADER}\n3055550100\n".encode())

    response = client.post(
        reverse("admin:campaigns_contact_import"),
        {"organization": organization.pk, "file": upload},
    )

    assert response.status_code == 200
    assert "The file has 10,000 columns; a contact file may have at most 200" in (
        response.content.decode()
    )
    assert (ImportJob.objects.count(), Contact.objects.count()) == (0, 0)
    assert stored_files(tmp_path) == []


@pytest.mark.django_db
def test_the_column_limit_follows_its_setting_and_holds_for_files_imported_directly(
    settings, tmp_path
):
    settings.CONTACT_CSV_MAX_COLUMNS = 3
    organization = OrganizationFactory()
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b"phone,name,visit,doctor\n3055550100,Ana,Tue,Dr Lee\n")
    narrow = tmp_path / "narrow.csv"
    narrow.write_bytes(b"phone,name,visit\n3055550100,Ana,Tue\n")

    with open(wide, "rb") as file, pytest.raises(ImportFileError, match="at most 3 "):
        contacts_import(organization_id=organization.pk, file=file)
    with open(narrow, "rb") as file:
        report = contacts_import(organization_id=organization.pk, file=file)

    assert report.created == 1
    assert Contact.objects.get().variables == {"visit": "Tue"}
