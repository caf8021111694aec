"""`shopmind keys create/list/revoke` and `shopmind serve`'s help, through the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from shopmind.api.auth import KeyStore
from shopmind.cli import app
from shopmind.data.store import Store

runner = CliRunner()


def test_keys_create_list_revoke(tmp_path):
    db = f"sqlite:///{tmp_path}/keys.db"
    created = runner.invoke(app, ["keys", "create", "--scope", "read", "--scope", "ingest",
                                  "--name", "shop-frontend", "--db", db])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("sm_")
    keys = KeyStore(Store(db))
    key = keys.verify(token)
    assert key is not None and key.scopes == {"read", "ingest"}
    listed = runner.invoke(app, ["keys", "list", "--db", db])
    assert key.key_id in listed.output and "shop-frontend" in listed.output
    assert token not in listed.output  # only the id is ever shown again
    assert runner.invoke(app, ["keys", "revoke", key.key_id, "--db", db]).exit_code == 0
    assert KeyStore(Store(db)).verify(token) is None
    bad = runner.invoke(app, ["keys", "create", "--scope", "root", "--db", db])
    assert bad.exit_code == 2 and "unknown scope 'root'" in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "nope", "--db", db])
    assert missing.exit_code == 2 and "keys list" in missing.output


def test_serve_is_documented():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--dashboard-key" in result.output and "--port" in result.output
