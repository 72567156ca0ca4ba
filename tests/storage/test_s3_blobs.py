"""An operator's studio keeps its blobs in S3: big files go up in parts, browsers and rented GPUs move
them through presigned URLs, and a wrong endpoint, bucket or key is named in plain words."""

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from services.seaweed import SeaweedServer, free_ports, s3_client
from voicestudio.storage import BlobTooLarge, InvalidBlobKey, StorageError, open_blob_store
from voicestudio.storage.s3 import S3BlobStore
from voicestudio.storage.s3_location import parse_s3_location

MODEL = bytes(range(250)) * 80_000  # 20_000_000 bytes standing in for a trained model: three 8 MiB parts


def in_chunks(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def s3_store(location: str) -> S3BlobStore:
    store = open_blob_store(location)
    assert isinstance(store, S3BlobStore)
    return store


def bucket_and_prefix(store: S3BlobStore) -> tuple[str, str]:
    return store.location.bucket, store.location.prefix


def objects_under(seaweed: SeaweedServer, store: S3BlobStore, area: str = "") -> list[str]:
    bucket, prefix = bucket_and_prefix(store)
    listed = s3_client(seaweed).list_objects_v2(Bucket=bucket, Prefix=prefix + area).get("Contents", [])
    return sorted(item["Key"].removeprefix(prefix) for item in listed)


def unfinished_uploads(seaweed: SeaweedServer, store: S3BlobStore) -> list[str]:
    bucket, prefix = bucket_and_prefix(store)
    uploads = s3_client(seaweed).list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


def count_requests(store: S3BlobStore, operation: str) -> list[Any]:
    """The parameters of each `operation` request (e.g. "UploadPart") the store sends from now on."""
    seen: list[dict[str, Any]] = []
    store._client.meta.events.register(
        f"before-parameter-build.s3.{operation}", lambda params, **_: seen.append(dict(params))
    )
    return seen


def test_a_20_mb_model_goes_up_in_8_mib_parts_and_streams_back(
    seaweed: SeaweedServer, fresh_s3_location: str
) -> None:
    store = s3_store(fresh_s3_location)
    parts = count_requests(store, "UploadPart")
    ref = store.put_stream(in_chunks(MODEL), max_bytes=50_000_000)
    assert ref.size_bytes == 20_000_000
    assert ref.sha256 == hashlib.sha256(MODEL).hexdigest()
    assert [len(part["Body"]) for part in parts] == [8_388_608, 8_388_608, 3_222_784]
    assert [part["PartNumber"] for part in parts] == [1, 2, 3]
    assert objects_under(seaweed, store) == [ref.key]  # the temporary is gone
    assert unfinished_uploads(seaweed, store) == []
    streamed = hashlib.sha256()
    with store.open(ref.key) as blob:
        while chunk := blob.read(1_000_000):
            streamed.update(chunk)
    assert streamed.hexdigest() == ref.sha256
    again = count_requests(store, "CopyObject")
    assert store.put_stream(in_chunks(MODEL, 3_000_000), max_bytes=50_000_000) == ref
    # The content was there already: copied over it all the same, so its LastModified is new and
    # garbage collection spares it until the upload's record is written.
    assert [copy["Key"].removeprefix(store.location.prefix) for copy in again] == [ref.key]
    assert objects_under(seaweed, store) == [ref.key]


def test_a_small_blob_stored_again_is_written_again(seaweed: SeaweedServer, fresh_s3_location: str) -> None:
    store = s3_store(fresh_s3_location)
    puts = count_requests(store, "PutObject")
    first = store.put_stream([b"a short take"], max_bytes=1000)
    assert store.put_stream([b"a short ", b"take"], max_bytes=1000) == first
    assert [put["Key"].removeprefix(store.location.prefix) for put in puts] == [first.key] * 2
    assert objects_under(seaweed, store) == [first.key]


def test_an_upload_past_the_limit_mid_way_aborts_and_leaves_nothing(
    seaweed: SeaweedServer, fresh_s3_location: str
) -> None:
    store = s3_store(fresh_s3_location)
    parts = count_requests(store, "UploadPart")
    aborts = count_requests(store, "AbortMultipartUpload")
    with pytest.raises(BlobTooLarge, match=r"12\.0 MB"):
        store.put_stream(in_chunks(MODEL), max_bytes=12_000_000)
    assert len(parts) == 1  # one 8 MiB part had gone up before the limit was passed
    assert len(aborts) == 1
    assert objects_under(seaweed, store) == []
    assert objects_under(seaweed, store, "incoming/") == []
    assert unfinished_uploads(seaweed, store) == []


def test_a_browser_downloads_through_a_presigned_url(seaweed: SeaweedServer, fresh_s3_location: str) -> None:
    store = s3_store(fresh_s3_location)
    zip_bytes = b"PK\x03\x04" + bytes(range(256)) * 400
    ref = store.put_stream([zip_bytes], max_bytes=1_000_000)
    url = store.download_target(ref.key, download_name="さくら CV.zip", media_type="application/zip")
    assert url.startswith(seaweed.endpoint_url) and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == zip_bytes
        assert answer.headers["Content-Type"] == "application/zip"
        assert (
            "filename*=UTF-8''%E3%81%95%E3%81%8F%E3%82%89%20CV.zip" in answer.headers["Content-Disposition"]
        )
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered)
    assert refused.value.code == 403
    short = store.presign_get(ref.key, expires_s=60)
    assert "X-Amz-Expires=60" in short
    with urllib.request.urlopen(short) as answer:
        assert hashlib.sha256(answer.read()).hexdigest() == ref.sha256


def test_presigned_urls_can_name_the_host_browsers_see(
    seaweed: SeaweedServer, fresh_s3_location: str
) -> None:
    public = seaweed.endpoint_url.replace("127.0.0.1", "localhost")
    store = s3_store(f"{fresh_s3_location}&public_endpoint_url={public}")
    ref = store.put_stream([b"a take"], max_bytes=100)
    url = store.download_target(ref.key)
    assert url.startswith(f"{public}/")
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"a take"


def test_a_rented_gpu_puts_its_output_through_a_scratch_url(
    seaweed: SeaweedServer, fresh_s3_location: str
) -> None:
    store = s3_store(fresh_s3_location)
    checkpoint = bytes(range(256)) * 10_000
    url, scratch_key = store.scratch_put_url("step 400/model.ckpt", expires_s=600)
    assert scratch_key.startswith("scratch/") and scratch_key.endswith("/step_400_model.ckpt")
    request = urllib.request.Request(url, data=checkpoint, method="PUT")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    ref = store.adopt_scratch(scratch_key, max_bytes=10_000_000)
    assert ref.sha256 == hashlib.sha256(checkpoint).hexdigest()
    assert ref.size_bytes == 2_560_000
    assert store.read(ref.key) == checkpoint
    assert objects_under(seaweed, store) == [ref.key]
    with pytest.raises(StorageError, match="Nothing was uploaded"):
        store.adopt_scratch(scratch_key, max_bytes=10_000_000)

    url, too_big = store.scratch_put_url("model.onnx", expires_s=600)
    with urllib.request.urlopen(urllib.request.Request(url, data=checkpoint, method="PUT")):
        pass
    with pytest.raises(BlobTooLarge, match=r"1\.0 MB"):
        store.adopt_scratch(too_big, max_bytes=1_000_000)
    assert objects_under(seaweed, store) == [ref.key]
    for key in (ref.key, "../" + scratch_key, "scratch/x/model.onnx"):
        with pytest.raises(InvalidBlobKey, match="not a scratch key"):
            store.adopt_scratch(key, max_bytes=10_000_000)


def test_leftovers_of_a_killed_upload_are_swept(seaweed: SeaweedServer, fresh_s3_location: str) -> None:
    store = s3_store(fresh_s3_location)
    bucket, prefix = bucket_and_prefix(store)
    client = s3_client(seaweed)
    client.put_object(Bucket=bucket, Key=f"{prefix}incoming/dead", Body=b"half a take")
    client.create_multipart_upload(Bucket=bucket, Key=f"{prefix}incoming/dead-too")
    kept = store.put_stream([b"a take"], max_bytes=100)
    assert store.remove_stale_temporaries(older_than_s=3600) == 0
    assert store.remove_stale_temporaries(older_than_s=-5) == 2
    assert objects_under(seaweed, store) == [kept.key]
    assert unfinished_uploads(seaweed, store) == []


def test_an_unreachable_endpoint_is_named() -> None:
    (port,) = free_ports(1)
    endpoint = f"http://127.0.0.1:{port}"
    store = open_blob_store(
        f"s3://voices?endpoint_url={endpoint}&access_key_id=k&secret_access_key=s&max_attempts=1"
    )
    for attempt in (
        lambda: store.put_stream([b"a take"], max_bytes=100),
        lambda: store.exists("sha256/ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ):
        with pytest.raises(StorageError) as failed:
            attempt()
        assert endpoint in failed.value.message
        assert "could not be reached" in failed.value.message


def test_a_missing_bucket_and_a_wrong_secret_say_what_to_check(seaweed: SeaweedServer) -> None:
    missing = s3_store(seaweed.location("no-such-bucket-here", create_bucket=False))
    with pytest.raises(
        StorageError, match=r"The bucket no-such-bucket-here does not exist .* create_bucket=1"
    ):
        missing.put_stream([b"a take"], max_bytes=100)
    with pytest.raises(StorageError, match="does not exist"):
        missing.check()
    with pytest.raises(StorageError, match="does not exist"):  # not "no such blob": the bucket is missing
        missing.exists("sha256/ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

    wrong = seaweed.location("voices-wrong-key").replace("secret_access_key=", "secret_access_key=not-")
    with pytest.raises(StorageError, match="refused access to the bucket voices-wrong-key") as refused:
        open_blob_store(wrong)
    assert "not-voicestudio" not in refused.value.message  # the secret stays out of messages


def test_a_location_never_shows_its_secret_key() -> None:
    location = parse_s3_location("s3://voices/a?access_key_id=AKIA1&secret_access_key=hunter2")
    assert location.secret_access_key == "hunter2"
    assert "hunter2" not in repr(location) and "hunter2" not in str(location)
    assert "AKIA1" in repr(location)  # the key id is no secret, and it says which credentials were used


def test_a_mistyped_location_is_explained_without_its_secret() -> None:
    with pytest.raises(StorageError, match="unknown setting endpoint") as mistyped:
        open_blob_store("s3://voices/a?endpoint=http://x&access_key_id=k&secret_access_key=hunter2")
    assert "hunter2" not in mistyped.value.message
    with pytest.raises(StorageError, match="give both or neither"):
        open_blob_store("s3://voices/a?access_key_id=k")
    with pytest.raises(StorageError, match="url_expiry_s must be a whole number from 1 to 604800"):
        open_blob_store("s3://voices/a?url_expiry_s=0")
