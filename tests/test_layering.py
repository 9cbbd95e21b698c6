"""The layers stay layered: the library never reaches up into the command layer, and what runs
below the commands (aws/, the library root modules) neither prompts nor exits through click."""

from __future__ import annotations

import ast
from pathlib import Path

import streamlab

ROOT = Path(streamlab.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def library_modules() -> list[Path]:
    """Every module under streamlab/ except the command layer (commands/ and cli.py, which wires it)."""
    return [p for p in ROOT.rglob("*.py") if "commands" not in p.relative_to(ROOT).parts and p.name != "cli.py"]


def test_nothing_below_commands_imports_commands():
    assert len(library_modules()) > 30  # the walk found the package, not an empty folder
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m == "streamlab.commands" or m.startswith("streamlab.commands."))
        for p in library_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_aws_and_the_library_root_do_not_import_click():
    # sources/ and sinks/ declare their flags as click.Option (the registry's contract); aws/ and the
    # root modules run the work and must not prompt or exit through click
    paths = list((ROOT / "aws").rglob("*.py")) + [p for p in ROOT.glob("*.py") if p.name != "cli.py"]
    assert any(p.name == "plan.py" for p in paths) and any(p.name == "produce.py" for p in paths)
    offenders = {str(p.relative_to(ROOT)) for p in paths if any(m == "click" or m.startswith("click.") for m in imported_modules(p))}
    assert offenders == set()


def test_produce_runs_from_a_request_without_the_command_layer(tmp_path):
    from streamlab.pipeline import Limits
    from streamlab.produce import ProduceRequest, produce
    from streamlab.settings import load_settings

    out = tmp_path / "out.jsonl"
    request = ProduceRequest(settings=load_settings(home=tmp_path), source="synthetic", sink="file",
                             source_options={"seed": 1}, sink_options={"path": str(out)}, limits=Limits(count=25), quiet=True)
    result = produce(request)
    assert (result.stats.produced, result.stats.sent, result.stats.failed) == (25, 25, 0)
    assert len(out.read_text().splitlines()) == 25
