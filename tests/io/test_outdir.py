"""Where a command may replace a folder: never the input, a file, a path under a file, or a
folder holding files the tool did not write (`allocator.io.outdir`)."""

from __future__ import annotations

from pathlib import Path

from allocator.io.outdir import NOTICES, PLAN, ROUND, unsafe_output_dir, unsafe_output_file


def _earlier_plan(folder: Path) -> Path:
    folder.mkdir()
    for name in ("bookings.csv", "summary.json"):
        (folder / name).write_text("x", encoding="utf-8")
    (folder / "families").mkdir()
    return folder


def test_new_empty_and_earlier_output_folders_may_be_replaced(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert unsafe_output_dir(tmp_path / "new" / "plan", PLAN) is None
    assert unsafe_output_dir(tmp_path / "empty", ROUND) is None
    assert unsafe_output_dir(_earlier_plan(tmp_path / "plan"), PLAN) is None
    notices = tmp_path / "notices"
    notices.mkdir()
    (notices / "melding_W001.txt").write_text("x", encoding="utf-8")
    assert unsafe_output_dir(notices, NOTICES) is None


def test_a_users_own_file_in_an_earlier_plan_is_never_deleted(tmp_path: Path) -> None:
    plan = _earlier_plan(tmp_path / "plan")
    (plan / "my_notes.txt").write_text("x", encoding="utf-8")
    why = unsafe_output_dir(plan, PLAN)
    assert why is not None and "my_notes.txt" in why


def test_inputs_files_and_paths_under_files_are_refused(tmp_path: Path) -> None:
    round_dir = tmp_path / "round"
    round_dir.mkdir()
    (round_dir / "children.csv").write_text("x", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("x", encoding="utf-8")

    assert "input" in (unsafe_output_dir(round_dir, ROUND, [round_dir]) or "")
    assert "input" in (unsafe_output_dir(tmp_path, PLAN, [round_dir]) or "")
    assert unsafe_output_dir(readme, NOTICES) == "it is a file"
    assert "is a file" in (unsafe_output_dir(readme / "sub", PLAN) or "")
    assert "not empty" in (unsafe_output_dir(round_dir, ROUND) or "")
    assert "not empty" in (unsafe_output_dir(round_dir, NOTICES) or "")


def test_an_answer_file_replaces_only_a_file_of_its_kind(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("x", encoding="utf-8")
    earlier = tmp_path / "answer.json"
    earlier.write_text("{}", encoding="utf-8")

    assert unsafe_output_file(earlier, ".json") is None
    assert unsafe_output_file(tmp_path / "new.json", ".json") is None
    assert "not a .json file" in (unsafe_output_file(readme, ".json") or "")
    assert unsafe_output_file(tmp_path, ".json") == "it is a folder"
    assert "is a file" in (unsafe_output_file(readme / "x.json", ".json") or "")
