"""CSV downloads: a hostile cell stays text in a spreadsheet; numbers stay numbers."""

import csv
import io
from decimal import Decimal

from voiceops.csv_export import csv_rows


def read(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def test_it_neutralises_every_cell_a_spreadsheet_would_run_as_a_formula():
    rows = [['=HYPERLINK("http://x")', "+1 555", "-2+3", "@SUM(A1)", "\tTab", "Ada"]]

    assert read(csv_rows(["name"], rows))[1] == [
        '\'=HYPERLINK("http://x")',
        "'+1 555",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "Ada",
    ]


def test_it_writes_numbers_and_empty_cells_as_they_are():
    assert read(csv_rows(["a", "b", "c"], [[Decimal("-1.50"), None, 3]]))[1] == ["-1.50", "", "3"]
