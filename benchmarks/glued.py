"""Every glued value of every chapter at smoke size: record it, or compare a run with the record.

    python benchmarks/glued.py --record     # writes benchmarks/results/glued_smoke.json
    python benchmarks/glued.py              # runs the chapters again and lists what changed

A refactor must leave these values as they are, except where a listed scientific fix changes them on
purpose. Numbers are compared to 6 significant digits; strings exactly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))  # the book's build tooling (chapter_runner.py)
from chapter_runner import SMOKE_PARAMS, execute_chapter, read_glue, toc_chapters  # noqa: E402

RECORD = ROOT / "benchmarks" / "results" / "glued_smoke.json"


def run(chapters) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in chapters:
            glued = read_glue(execute_chapter(chapter, Path(tmp), **SMOKE_PARAMS))
            out[chapter.stem] = {k: v if isinstance(v, (int, float, str, bool)) or v is None else repr(v)
                                 for k, v in glued.items()}
            print(f"{chapter.stem}: {len(glued)} values", flush=True)
    return out


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a == b


def compare(before: dict, after: dict) -> list[str]:
    changes = []
    for chapter in sorted(set(before) | set(after)):
        b, a = before.get(chapter, {}), after.get(chapter, {})
        for name in sorted(set(b) | set(a)):
            if name not in a:
                changes.append(f"{chapter} {name}: removed (was {b[name]!r})")
            elif name not in b:
                changes.append(f"{chapter} {name}: new ({a[name]!r})")
            elif not same(b[name], a[name]):
                changes.append(f"{chapter} {name}: {b[name]!r} -> {a[name]!r}")
    return changes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the record instead of comparing")
    parser.add_argument("chapters", nargs="*", help="chapter stems (default: every chapter of _toc.yml)")
    args = parser.parse_args(argv)
    chapters = [c for c in toc_chapters() if not args.chapters or c.stem in args.chapters]
    values = run(chapters)
    if args.record:
        RECORD.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, values.values()))} values in {RECORD}")
        return 0
    before = json.loads(RECORD.read_text())
    changes = compare({k: before[k] for k in values if k in before}, values)
    print("\n".join(changes) if changes else "no glued value changed")
    print(f"{len(changes)} of {sum(map(len, values.values()))} values changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
