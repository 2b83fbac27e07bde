"""Every ```python block of README.md and docs/*.md runs, each file's blocks in order in one namespace.

A block preceded by the line `<!-- slow -->` (full-MNIST training) runs only under `pytest -m slow`,
where the whole file runs again, slow blocks included. Fast blocks must not depend on slow ones.
Blocks run in a temporary working directory, with matplotlib (if a block imports it) drawing off
screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SLOW_MARK = re.compile(r"<!--\s*slow\s*-->\s*$")


@dataclass
class Block:
    path: Path
    line: int  # the line of the opening fence, 1-based
    code: str
    slow: bool


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, each marked slow if `<!-- slow -->` precedes it."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) != "python":
            continue
        before = text[: match.start()].rstrip()
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(path, line, match.group(2), bool(SLOW_MARK.search(before))))
    return blocks


def run_blocks(blocks: list[Block], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{blocks[0].path.stem}"}
    for block in blocks:
        name = f"{block.path.relative_to(ROOT)}, block at line {block.line}"
        exec(compile(block.code, name, "exec"), namespace)  # our own documentation


DOCS_WITH_CODE = [path for path in DOCS if python_blocks(path)]


@pytest.mark.parametrize("path", DOCS_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocks = [block for block in python_blocks(path) if not block.slow]
    if not blocks:
        pytest.skip("every block of this file is marked slow")
    run_blocks(blocks, monkeypatch, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [path for path in DOCS_WITH_CODE if any(block.slow for block in python_blocks(path))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_all_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_blocks(python_blocks(path), monkeypatch, tmp_path)


def test_block_extraction(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Text\n\n```python\na = 1\n```\n\n```bash\nls\n```\n\n<!-- slow -->\n```python\nb = a + 1\n```\n"
        "\n```python title\nc = 3\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(doc)
    assert [(b.line, b.code, b.slow) for b in blocks] == [
        (3, "a = 1\n", False),
        (12, "b = a + 1\n", True),
        (16, "c = 3\n", False),
    ]


def test_tutorial_and_layers_pages_exist_with_code() -> None:
    tutorial = python_blocks(ROOT / "docs" / "tutorial.md")
    assert len(tutorial) >= 10 and sum(b.slow for b in tutorial) >= 1
    assert (ROOT / "docs" / "images" / "learning_rate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "images/learning_rate.png" in (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")


def test_relative_links_in_tutorial_and_layers_point_to_files() -> None:
    link = re.compile(r"\]\(((?!https?://|#)[^)\s]+)\)")
    for path in [ROOT / "docs" / "tutorial.md", ROOT / "docs" / "layers.md"]:
        for target in link.findall(path.read_text(encoding="utf-8")):
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name} links to missing {target}"


def test_the_ten_lines_print_what_the_readme_states(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Ten lines of Python") :]
    stated = re.search(r"prints `\{'loss': ([\d.]+), 'accuracy': ([\d.]+)\}`", section)
    assert stated, "the Ten lines section states what the example prints"
    run_blocks(python_blocks(ROOT / "README.md")[:1], monkeypatch, tmp_path)
    printed = re.search(r"\{'loss': ([\d.]+), 'accuracy': ([\d.]+)\}", capsys.readouterr().out)
    assert printed and float(printed[2]) == pytest.approx(float(stated[2]), abs=0.003)
    assert float(printed[1]) == pytest.approx(float(stated[1]), abs=0.01)
