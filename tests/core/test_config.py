"""Settings given as environment variables arrive with the type the code compares them as."""

from __future__ import annotations

from talentadmin.config import DEFAULTS, from_environment


def test_numbers_from_the_environment_are_numbers():
    settings = from_environment({
        "TALENTADMIN_EXPORT_STREAM_ROWS": "5000", "TALENTADMIN_EXPORT_STREAM_ROWS_CSV": "90000",
        "TALENTADMIN_EXPORT_KEEP_HOURS": "48", "TALENTADMIN_EXPORT_STALE_SECONDS": "600",
        "TALENTADMIN_OCR_STALE_SECONDS": "120", "TALENTADMIN_SMS_MAX_TRIES": "3",
        "OTHER": "ignored"})
    assert settings == {"EXPORT_STREAM_ROWS": 5000, "EXPORT_STREAM_ROWS_CSV": 90000,
                        "EXPORT_KEEP_HOURS": 48, "EXPORT_STALE_SECONDS": 600,
                        "OCR_STALE_SECONDS": 120, "SMS_MAX_TRIES": 3}


def test_every_number_default_is_parsed_as_one():
    from talentadmin.config import _INTS

    numbers = {key for key, value in DEFAULTS.items()
               if isinstance(value, int) and not isinstance(value, bool)}
    assert numbers <= _INTS


def test_an_export_line_from_the_environment_decides(monkeypatch, tmp_path):
    from talentadmin import create_app

    monkeypatch.setenv("TALENTADMIN_EXPORT_STREAM_ROWS", "7")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    assert app.config["EXPORT_STREAM_ROWS"] == 7
    assert app.config["EXPORT_STREAM_ROWS_CSV"] == 250_000
