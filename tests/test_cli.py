"""The command line: imports with readable errors (exit 2), stats, help a new user can follow."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shopmind.cli import app

runner = CliRunner()


def _run(*args, db):
    return runner.invoke(app, [*args, "--db", db])


def test_import_then_stats(tmp_path):
    db = f"sqlite:///{tmp_path}/cli.db"
    (tmp_path / "Beauty.txt").write_text("1 1 2 3\n2 2 3\n")
    result = _run("import", "amazon-seqrec", "--sequences", str(tmp_path / "Beauty.txt"), db=db)
    assert result.exit_code == 0, result.output
    assert "events" in result.output and "done in" in result.output
    stats = _run("stats", "--json", db=db)
    assert json.loads(stats.output)["events"] == 5
    table = _run("stats", db=db)
    assert "purchase" in table.output and "1970-01-01" in table.output


def test_bad_input_is_one_readable_line_and_exit_2(tmp_path):
    db = f"sqlite:///{tmp_path}/cli.db"
    bad = tmp_path / "items.csv"
    bad.write_text("item_id,price\na,1\nb,free\n")
    result = _run("import", "items", str(bad), db=db)
    assert result.exit_code == 2
    assert "line 3, field 'price': 'free' is not a number" in result.output
    assert "Traceback" not in result.output
    mapped = _run("import", "items", str(bad), "--map", "item_id", db=db)
    assert mapped.exit_code == 2 and "is not FIELD=COLUMN" in mapped.output
    assert json.loads(_run("stats", "--json", db=db).output)["items"] == 0


def test_help_lists_the_commands():
    result = runner.invoke(app, ["import", "--help"])
    for command in ("amazon-seqrec", "movielens-100k", "reviews", "items", "events", "orders"):
        assert command in result.output
    assert "--map" in runner.invoke(app, ["import", "reviews", "--help"]).output
