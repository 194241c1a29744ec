"""CSV and JSON project lists: errors name the row and field; a bad row costs only itself."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sitroom_projects.records import (
    FormatError,
    parse_amount,
    parse_csv,
    parse_date,
    parse_json,
    parse_percent,
)

HEADER = ("id,name,agency,district,category,contract_value,start_date,end_date,planned_curve,"
          "planned_percent,actual_percent,budget_absorbed\n")
GOOD = ("DPU-1,Jalan Kaligawe,DPU,Gayamsari,jalan,1.250.000.000,2026-03-02,2026-12-15,,,45,"
        "500000000\n")


def test_csv_with_bad_rows_keeps_the_good_ones() -> None:
    text = (
        HEADER
        + GOOD
        + "DPU-2,Drainase,DPU,Genuk,drainase,2000000,2026-03-02,2026-12-15,,,abc,\n"
        + "DPU-3,Polder,DPU,Semarang Utara,polder,,02/03/2026,15/12/2026,,,\"60,5%\",\n"
        + "DPU-4,Pasar,,Tugu,pasar,,2026-03-02,2026-12-15,,,10,\n"
        + "DPU-5,Mundur,DPU,Tugu,jalan,,2026-12-15,2026-03-02,,,10,\n"
        + "DPU-6,Kurva,DPU,Tugu,jalan,,2026-03-02,2026-12-15,2026-05-01:50;2026-04-01:60,,10,\n"
        + "DPU-1,Duplikat,DPU,Tugu,jalan,,2026-03-02,2026-12-15,,,10,\n"
        + "DPU-8,Nilai,DPU,Tugu,jalan,Rp 1.000.000,2026-03-02,2026-12-15,,120,10,\n"
        + ",,,,,,,,,,,\n"
        + "DPU-9,Tanggal,DPU,Tugu,jalan,,2026-02-30,2026-12-15,,,10,\n"
    )
    result = parse_csv(text, {}, 100)
    assert [p.id for p in result.projects] == ["DPU-1", "DPU-3"]
    first = result.projects[0]
    assert first.contract_value == 1_250_000_000 and first.budget_absorbed == 500_000_000
    assert result.projects[1].actual_percent == 60.5
    assert result.projects[1].start_date == date(2026, 3, 2)  # day-first
    assert result.errors == [
        "row 3 (id=DPU-2), field 'actual_percent': expected a percentage 0..100, got 'abc'",
        "row 5 (id=DPU-4), field 'agency': required field is missing",
        "row 6 (id=DPU-5), field 'end_date': ends before it starts",
        "row 7 (id=DPU-6), field 'planned_curve': a cumulative plan cannot go down",
        "row 8 (id=DPU-1), field 'id': duplicate id (first at row 2)",
        "row 9 (id=DPU-8), field 'planned_percent': percentage must be within 0..100, got '120'",
        "row 11 (id=DPU-9), field 'start_date': expected a date YYYY-MM-DD or DD/MM/YYYY, "
        "got '2026-02-30'",
    ]


def test_csv_without_required_columns_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="actual_percent"):
        parse_csv("id,name,agency,start_date,end_date\nA,B,C,2026-01-01,2026-02-01\n", {}, 10)
    with pytest.raises(FormatError, match="no header"):
        parse_csv("", {}, 10)


def test_csv_column_renames_and_record_limit() -> None:
    text = ("kode,nama,opd,mulai,selesai,fisik\n"
            "A-1,Jalan,DPU,2026-01-01,2026-02-01,x\n"
            "A-2,Jalan,DPU,2026-01-01,2026-02-01,20\n"
            "A-3,Jalan,DPU,2026-01-01,2026-02-01,30\n")
    columns = {"id": "kode", "name": "nama", "agency": "opd", "start_date": "mulai",
               "end_date": "selesai", "actual_percent": "fisik"}
    result = parse_csv(text, columns, 2)
    assert [p.id for p in result.projects] == ["A-2"]
    assert result.errors[0].startswith("row 2 (id=A-1), field 'fisik': expected a percentage")
    assert result.errors[1] == "row 4: more than 2 records; the rest are ignored"


def record(**fields: object) -> dict[str, object]:
    return {"id": "P-1", "name": "Pasar", "agency": "Dinas Perdagangan",
            "start_date": "2026-01-01", "end_date": "2026-06-30", "actual_percent": 40, **fields}


def test_json_items_with_wrong_types() -> None:
    document = {"projects": [
        record(planned_curve=[{"date": "2026-02-01", "percent": 10}, ["2026-04-01", "40,5"]]),
        record(id="P-2", actual_percent="40"),
        record(id="P-3", actual_percent=True),
        record(id="P-4", contract_value=[1]),
        record(id="P-5", name={"text": "x"}),
        "not an object",
        record(id="P-7", planned_curve=[{"date": "2026-02-01"}]),
        record(id="bad id with spaces"),
    ]}
    result = parse_json(json.dumps(document), {}, 100)
    assert [p.id for p in result.projects] == ["P-1", "P-2"]
    assert result.projects[0].planned_curve == ((date(2026, 2, 1), 10.0), (date(2026, 4, 1), 40.5))
    assert result.errors == [
        "items[2] (id=P-3), field 'actual_percent': expected a percentage 0..100, got a boolean",
        "items[3] (id=P-4), field 'contract_value': expected an amount in rupiah, got list",
        "items[4] (id=P-5), field 'name': expected text, got dict",
        "items[5]: expected an object, got str",
        "items[6] (id=P-7), field 'planned_curve': each point needs a date and a percent",
        "items[7] (id=bad id with spaces), field 'id': use letters, digits and . _ : / - "
        "(at most 64)",
    ]


def test_json_items_key_and_document_errors() -> None:
    text = json.dumps({"data": {"paket": [record()]}})
    assert len(parse_json(text, {}, 10, "data.paket").projects) == 1
    with pytest.raises(FormatError, match="missing 'paket'"):
        parse_json(json.dumps({"data": {}}), {}, 10, "data.paket")
    with pytest.raises(FormatError, match="expected a list"):
        parse_json(json.dumps({"data": 1}), {}, 10)
    with pytest.raises(FormatError, match="line 1 column"):
        parse_json("{not json", {}, 10)
    assert len(parse_json(json.dumps([record()]), {}, 10).projects) == 1


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1.250.000.000", 1.25e9), ("Rp 2.000.000,50", 2_000_000.5), ("1500000", 1.5e6),
     (" 12,5 ", 12.5), (3_000_000, 3e6)],
)
def test_rupiah_amounts(raw: object, value: float) -> None:
    assert parse_amount(raw, "contract_value") == value


@pytest.mark.parametrize("raw", ["-5", "1.2.3", "satu juta", "1e20", True])
def test_bad_amounts(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_amount(raw, "contract_value")


def test_percent_and_date_edges() -> None:
    assert parse_percent("0", "f") == 0 and parse_percent(100, "f") == 100
    for bad in ("-0.1", "100.01", "nan", None):
        with pytest.raises(ValueError):
            parse_percent(bad, "f")
    assert parse_date("31/12/2026", "f") == date(2026, 12, 31)
    for bad in ("12/31/2026", "2026-13-01", 20260101):
        with pytest.raises(ValueError):
            parse_date(bad, "f")
