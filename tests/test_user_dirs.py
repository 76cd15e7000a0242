"""Where records and caches go, and the account fingerprint they are keyed by."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import speechgen_jupyter as sg
from speechgen_jupyter._paths import user_cache_dir, user_data_dir
from speechgen_jupyter._secret import Secret


def test_the_environment_overrides_the_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(tmp_path / "c"))
    assert user_data_dir() == tmp_path / "d"
    assert user_cache_dir() == tmp_path / "c"


def test_without_an_override_the_folders_are_the_users_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPEECHGEN_DATA_DIR")
    monkeypatch.delenv("SPEECHGEN_CACHE_DIR")
    home = Path.home()
    assert user_data_dir().is_relative_to(home) and user_data_dir().name == "speechgen_jupyter"
    assert user_cache_dir().is_relative_to(home) and user_cache_dir() != user_data_dir()


def test_the_suite_never_points_at_the_users_folders() -> None:
    assert not Path(os.environ["SPEECHGEN_DATA_DIR"]).is_relative_to(Path.home() / ".local")
    assert not Path(os.environ["SPEECHGEN_CACHE_DIR"]).is_relative_to(Path.home() / ".cache")


def test_the_fingerprint_names_the_account_without_the_key() -> None:
    key = "sk_live_" + "Zq9" * 10
    fingerprint = Secret(key).fingerprint()
    assert fingerprint == Secret(key).fingerprint()  # stable across clients and kernels
    assert fingerprint != Secret(key + "x").fingerprint()  # one per account
    assert key not in fingerprint and key[8:20] not in fingerprint
    client = sg.Client(api_key=key, base_url="http://127.0.0.1:9")
    assert client.account == fingerprint
    assert key not in repr(client)
