"""scripts/restore_data.py copies out of a repository snapshot only what training may read."""

import importlib.util
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def restore():
    spec = importlib.util.spec_from_file_location("restore_data", ROOT / "scripts" / "restore_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bare_repo(path: Path, files: dict[str, bytes]) -> Path:
    work = path / "work"
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(work)]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(path / "repo")], check=True)
    return path / "repo"


def test_only_the_allowed_groups_forms_and_train_names_are_copied(tmp_path, restore):
    mirrors = tmp_path / "mirrors"
    _bare_repo(mirrors / restore.IAM_LINES, {
        "IAM/gt_test.txt": b"c06-005-00.jpg\tallowed\na01-000-00.jpg\treserved\n",
        "IAM/image/c06-005-00.jpg": b"allowed", "IAM/image/a01-000-00.jpg": b"reserved"})
    _bare_repo(mirrors / restore.IAM_WORDS, {
        "dataset/words_new.txt": b"listing",
        f"{restore.WORDS_DIR}a01/a01-000u/a01-000u-00-00.png": b"allowed",
        f"{restore.WORDS_DIR}a01/a01-000ux/a01-000ux-00-00.png": b"another form, not allowed",
        f"{restore.WORDS_DIR}b02/b02-000/b02-000-00-00.png": b"reserved"})
    csv = io.BytesIO()
    with zipfile.ZipFile(csv, "w") as z:
        z.writestr("written_name_train_v2.csv", "FILENAME,IDENTITY\nTRAIN_00001.jpg,ANNA\n")
    _bare_repo(mirrors / restore.NAME_LABELS, {"written_name_train_v2.csv.zip": csv.getvalue(),
                                               "written_name_validation_v2.csv.zip": b"reserved"})
    _bare_repo(mirrors / restore.NAME_IMAGES, {"train_v2_test/TRAIN_00001.jpg": b"a",
                                               "train_v2_test/VALIDATION_0001.jpg": b"reserved",
                                               "train_v2_test/TEST_0001.jpg": b"reserved"})
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "iam_train_groups.txt").write_text("c06\n")
    (shared / "iam_extra_forms.txt").write_text("a01-000u\n")
    data = tmp_path / "data"
    args = ["--mirrors", str(mirrors), "--data", str(data), "--shared", str(shared)]
    assert restore.main([*args, "--only", "iam-lines", "iam-words", "names"]) == 0

    copied = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())
    assert copied == ["iam-lines/IAM/gt_test.txt", "iam-lines/IAM/image/c06-005-00.jpg",
                      "iam-words/words/a01/a01-000u/a01-000u-00-00.png", "iam-words/words_new.txt",
                      "names/train_v2_test/TRAIN_00001.jpg", "names/written_name_train_v2.csv"]
    assert not any(b"reserved" in (data / p).read_bytes() for p in copied if not p.endswith(".txt"))

    (data / "names" / "train_v2_test" / "TRAIN_00001.jpg").write_bytes(b"kept")
    assert restore.main([*args, "--only", "names"]) == 0  # present sets are left alone
    assert (data / "names" / "train_v2_test" / "TRAIN_00001.jpg").read_bytes() == b"kept"
