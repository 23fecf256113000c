"""functions/package.py: what ships, reproducibly."""

import io
import tarfile

import package


def names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_every_function_ships_its_folder_and_the_shared_code_but_no_tests():
    assert package.function_names() == ["api-gateway", "cleanup-cron", "transcribe", "upload-audio-v1", "upload-audio-v2"]
    for name in package.function_names():
        members = names(package.archive_bytes(name))
        assert {"function.json", "requirements.txt", "src/main.py", "src/shared/__init__.py", "src/shared/utils.py", "src/shared/config.py"} <= set(members)
        assert not [n for n in members if "/tests/" in n or n.startswith("tests/") or "__pycache__" in n or n.endswith(".pyc")]
        assert all(m.mtime == 0 and m.uid == 0 and m.isfile() for m in members.values())
    assert "routes.json" in names(package.archive_bytes("api-gateway"))


def test_archives_are_reproducible():
    assert package.archive_bytes("transcribe") == package.archive_bytes("transcribe")


def test_a_staged_function_matches_its_archive(tmp_path):
    staged = package.stage("upload-audio-v1", tmp_path / "fn")
    on_disk = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert on_disk == sorted(names(package.archive_bytes("upload-audio-v1")))
