"""Write the corpus of bad and messy-but-valid inputs for ``tests/test_clean.py``.

Run from the project root: ``.venv/bin/python tests/inputs/make_corpus.py`` (add
``--site-b`` to write the smaller messy site of ``tests/inputs/sites.yaml`` instead).
Every case is a folder holding a ``nact_cohort`` and a ``bone_cohort`` file
made from the first rows of the bundled (synthetic) cohorts, with exactly one
defect in a bad case; ``expected.csv`` lists the problem(s) the cleaning must
report (file, row, column, value, problem). Messy cases hold valid data in
unusual encodings and must clean to the same cohorts as the canonical files.
"""

import csv
import io
import re
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
N_ROWS = 8

nact = pd.read_csv(ROOT / "data/raw/nact_cohort.csv", dtype=str, keep_default_na=False).head(N_ROWS)
bone = pd.read_csv(ROOT / "data/raw/bone_cohort.csv", dtype=str, keep_default_na=False)
# keep some patients with bone metastasis among the rows
bone = pd.concat([bone[bone.bone_metastasis == "yes"].head(3), bone[bone.bone_metastasis == "no"].head(5)])
bone = bone.reset_index(drop=True)
no_bm = bone.index[bone.bone_metastasis == "no"][0]  # its file row is no_bm + 2


def case(
    name,
    nact_df=None,
    bone_df=None,
    expected=(),
    nact_text=None,
    bone_text=None,
    nact_name="nact_cohort.csv",
    bone_name="bone_cohort.csv",
    encoding="utf-8",
    sep=",",
    reading=(),
):
    folder = HERE / ("bad" if expected else "messy") / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for fname, df, text in (
        (nact_name, nact if nact_df is None else nact_df, nact_text),
        (bone_name, bone if bone_df is None else bone_df, bone_text),
    ):
        if fname is None:
            continue
        path = folder / fname
        if text is not None:
            path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
        elif fname.endswith(".xlsx"):
            df.to_excel(path, index=False)
        else:
            df.to_csv(path, index=False, sep=sep, encoding=encoding, lineterminator="\n")
    if expected:
        with open(folder / "expected.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "row", "column", "value", "problem"])
            w.writerows(expected)
    if reading:  # how the cleaning must say it read each file
        with open(folder / "reading.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["cohort", "file", "format", "encoding", "delimiter", "sheet"])
            w.writerows(reading)
    return folder


def text_of(df, sep=",", trailer=""):
    """A table as delimited text, one line per row, each line ending with ``trailer``."""
    return "".join(sep.join(r) + trailer + "\n" for r in [list(df.columns)] + df.values.tolist())


def quote_field(line, i, pattern):
    """A comma-separated line with field ``i`` written by ``pattern`` (``'"{}'`` opens a quote)."""
    fields = line.split(",")
    fields[i] = pattern.format(fields[i])
    return ",".join(fields)


def raw_bytes(text):
    """UTF-8 bytes of ``text`` with each ``@xx@`` replaced by the single byte 0xXX."""
    out = text.encode("utf-8")
    for hexa in {m.group(1) for m in re.finditer(r"@([0-9a-f]{2})@", text)}:
        out = out.replace(f"@{hexa}@".encode(), bytes([int(hexa, 16)]))
    return out


def workbook(sheets):
    """An .xlsx workbook's bytes: sheet title -> rows (lists of cell values; a DataFrame for a table)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        if isinstance(rows, pd.DataFrame):
            rows = [list(rows.columns)] + rows.values.tolist()
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def edit(df, row, column, value):
    out = df.copy()
    out.loc[row, column] = value
    return out


def main():
    for sub in ("bad", "messy"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    n_id = nact.loc[1, "patient_id"]
    # --- bad inputs, one defect each --------------------------------------------------
    case("empty_file", nact_text="", expected=[("nact_cohort.csv", "", "", "", "the file is empty")])
    case(
        "header_only",
        bone_text=",".join(bone.columns) + "\n",
        expected=[("bone_cohort.csv", "", "", "", "the file has a header but no rows")],
    )
    case(
        "pipe_delimiter",
        nact_text="\n".join("|".join(r) for r in [list(nact.columns)] + nact.values.tolist()) + "\n",
        expected=[("nact_cohort.csv", 1, "", "", "no comma, semicolon or tab found in the header")],
    )
    case(
        "unknown_category",
        nact_df=edit(nact, 2, "molecular_subtype", "luminal_c"),
        expected=[("nact_cohort.csv", 4, "molecular_subtype", "luminal_c", "not an allowed category")],
    )
    case(
        "age_out_of_range",
        nact_df=edit(nact, 0, "age", "130"),
        expected=[("nact_cohort.csv", 2, "age", "130", "outside 18-100")],
    )
    case(
        "age_negative",
        bone_df=edit(bone, 4, "age", "-5"),
        expected=[("bone_cohort.csv", 6, "age", "-5", "outside 18-100")],
    )
    case(
        "age_text",
        nact_df=edit(nact, 3, "age", "forty"),
        expected=[("nact_cohort.csv", 5, "age", "forty", "not a whole number")],
    )
    case(
        "age_decimal",
        bone_df=edit(bone, 1, "age", "45.5"),
        expected=[("bone_cohort.csv", 3, "age", "45.5", "not a whole number")],
    )
    case(
        "duplicate_id",
        nact_df=edit(nact, 4, "patient_id", n_id),
        expected=[("nact_cohort.csv", 6, "patient_id", "", "duplicate patient_id: same id as row 3")],
    )
    case(
        "empty_id",
        bone_df=edit(bone, 2, "patient_id", ""),
        expected=[("bone_cohort.csv", 4, "patient_id", "", "patient_id is empty")],
    )
    case(
        "missing_column",
        nact_df=nact.drop(columns="pcr"),
        expected=[("nact_cohort.csv", 1, "pcr", "", "required column missing")],
    )
    case(
        "type_without_bone_metastasis",
        bone_df=edit(bone, no_bm, "bone_metastasis_type", "mixed"),
        expected=[
            (
                "bone_cohort.csv",
                no_bm + 2,
                "bone_metastasis_type",
                "mixed",
                "bone_metastasis_type given for a patient without bone metastasis",
            )
        ],
    )
    case(
        "extent_without_bone_metastasis",
        bone_df=edit(bone, no_bm, "bone_metastasis_extent", "axial"),
        expected=[
            (
                "bone_cohort.csv",
                no_bm + 2,
                "bone_metastasis_extent",
                "axial",
                "bone_metastasis_extent given for a patient without bone metastasis",
            )
        ],
    )
    case(
        "bad_yes_no",
        nact_df=edit(nact, 5, "pcr", "maybe"),
        expected=[("nact_cohort.csv", 7, "pcr", "maybe", "not a yes/no value")],
    )
    lines = nact.to_csv(index=False, lineterminator="\n").splitlines()
    lines[3] += ",extra"
    case(
        "ragged_row",
        nact_text="\n".join(lines) + "\n",
        expected=[("nact_cohort.csv", 4, "", "", "11 fields where the header has 10")],
    )
    case("missing_file", bone_name=None, expected=[("bone_cohort", "", "", "", "file not found")])
    case(
        "unknown_density",
        nact_df=edit(nact, 6, "breast_density", "e"),
        expected=[("nact_cohort.csv", 8, "breast_density", "e", "not an allowed category")],
    )
    case(
        "excel_unknown_t_stage",
        bone_df=edit(bone, 3, "t_stage", "T5"),
        bone_name="bone_cohort.xlsx",
        expected=[("bone_cohort.xlsx", 5, "t_stage", "T5", "not an allowed category")],
    )
    case(
        "semicolon_unknown_n_stage",
        bone_df=edit(bone, 0, "n_stage", "N4"),
        sep=";",
        expected=[("bone_cohort.csv", 2, "n_stage", "N4", "not an allowed category")],
    )
    case(
        "latin1_unknown_status",
        nact_df=edit(nact, 1, "menopausal_status", "ménopausée"),
        encoding="latin-1",
        expected=[("nact_cohort.csv", 3, "menopausal_status", "ménopausée", "not an allowed category")],
    )
    case(
        "corrupt_excel",
        nact_name="nact_cohort.xlsx",
        nact_text="this is not a workbook\n",
        expected=[("nact_cohort.xlsx", "", "", "", "cannot read the Excel file")],
    )
    case(
        "several_problems_both_files",
        nact_df=edit(edit(nact, 0, "age", "17"), 2, "mass", "perhaps"),
        bone_df=edit(bone, 1, "center", ""),  # a missing centre is allowed: not a problem
        expected=[
            ("nact_cohort.csv", 2, "age", "17", "outside 18-100"),
            ("nact_cohort.csv", 4, "mass", "perhaps", "not a yes/no value"),
        ],
    )
    case(
        "two_files_for_one_cohort",
        expected=[("nact_cohort", "", "", "", "several files for nact_cohort: nact_cohort.csv, nact_cohort.xlsx")],
    )
    nact.to_excel(HERE / "bad/two_files_for_one_cohort/nact_cohort.xlsx", index=False)
    bad_columns()
    bad_excel()
    bad_encodings()
    bad_numbers_and_ids()
    bad_layout()

    # --- messy but valid -------------------------------------------------------------
    m = nact.copy()
    m["molecular_subtype"] = m["molecular_subtype"].map(
        {
            "luminal_a": "Luminal A",
            "luminal_b": " luminal-B ",
            "her2_enriched": "HER2-enriched",
            "triple_negative": "Triple negative",
        }
    )
    m["pcr"] = m["pcr"].map({"yes": "Y", "no": "n"})
    m["mass"] = m["mass"].map({"yes": "TRUE", "no": "false"})
    m["microcalcification"] = m["microcalcification"].map({"yes": "1", "no": "0"})
    m["mri_necrosis"] = m["mri_necrosis"].replace({"": "N/A"}).str.upper()
    m["breast_density"] = m["breast_density"].str.upper()
    m["menopausal_status"] = "  " + m["menopausal_status"].str.capitalize()
    m["comment"] = "kept as is"
    m.columns = [c.upper() if c == "age" else c for c in m.columns]
    b = bone.copy()
    b["t_stage"] = b["t_stage"].str.lower()
    b["bone_metastasis"] = b["bone_metastasis"].map({"yes": "Yes", "no": "No"})
    b["bone_metastasis_type"] = b["bone_metastasis_type"].replace({"": "unknown"})
    b["bone_metastasis_extent"] = b["bone_metastasis_extent"].replace({"whole_body": "Whole body", "": "NA"})
    case("case_spaces_synonyms_bom_semicolon", nact_df=m, bone_df=b, encoding="utf-8-sig", sep=";")
    case("excel", nact_df=nact, bone_df=bone, nact_name="nact_cohort.xlsx", bone_name="bone_cohort.xlsx")
    case(
        "tab_latin1",
        nact_df=nact,
        bone_df=bone,
        encoding="latin-1",
        sep="\t",
        nact_name="nact_cohort.tsv",
        bone_name="bone_cohort.tsv",
    )
    case("canonical", nact_df=nact, bone_df=bone)
    messy_encodings_and_sheets()
    print(f"wrote {len(list((HERE / 'bad').iterdir()))} bad and {len(list((HERE / 'messy').iterdir()))} messy cases")


CITY = "Zürich – €"  # an extra column's text: Windows-1252 holds each of these characters
TEXT = ("nact_cohort", "nact_cohort.csv", "delimited text")


def with_city(df):
    return df.assign(city=CITY)


def bad_columns():
    """Headers: duplicates after normalisation, duplicate extras, unnamed columns, invisible names."""
    case(
        "duplicate_header_age_AGE",
        nact_df=nact.assign(AGE=nact["age"]),
        expected=[("nact_cohort.csv", 1, "age", "", "2 columns read as age: 'age' (column 2) and 'AGE' (column 11)")],
    )
    case(
        "duplicate_header_patient_id",
        bone_df=bone.assign(**{"Patient ID": bone["patient_id"]}),
        expected=[
            (
                "bone_cohort.csv",
                1,
                "patient_id",
                "",
                "2 columns read as patient_id: 'patient_id' (column 1) and 'Patient ID' (column 13)",
            )
        ],
    )
    case(
        "duplicate_extra_columns",
        nact_text=text_of(nact.assign(note="a", other="b")).replace(",other", ",note", 1),
        expected=[("nact_cohort.csv", 1, "note", "", "2 columns named 'note' (column 11) and 'note' (column 12)")],
    )
    case(
        "unnamed_column_with_values",
        nact_text=text_of(nact.assign(x="a")).replace(",x\n", ",\n", 1),
        expected=[("nact_cohort.csv", 1, "", "", "column 11 has no name but holds values")],
    )
    case(
        "header_invisible_character",
        nact_df=nact.rename(columns={"age": "age\u200b"}),
        expected=[
            (
                "nact_cohort.csv",
                1,
                "",
                "",
                "the name of column 2 contains an invisible character U+200B (ZERO WIDTH SPACE)",
            ),
            ("nact_cohort.csv", 1, "age", "", "required column missing"),
        ],
    )


def bad_excel():
    """Workbooks: several sheets of data, formulas without saved values, old or protected files, odd cells."""
    case(
        "excel_two_sheets_with_the_contract",
        bone_name="bone_cohort.xlsx",
        bone_text=workbook({"Data": bone, "Data (2)": bone}),
        expected=[
            (
                "bone_cohort.xlsx",
                "",
                "",
                "",
                "data on 2 sheets: 'Data', 'Data (2)'; holding the contract's columns: 'Data', 'Data (2)'",
            )
        ],
    )
    case(
        "excel_two_sheets_without_the_contract",
        bone_name="bone_cohort.xlsx",
        bone_text=workbook({"Sheet1": [["x", "y"], [1, 2]], "Sheet2": [["a", "b"], [3, 4]]}),
        expected=[
            (
                "bone_cohort.xlsx",
                "",
                "",
                "",
                "data on 2 sheets: 'Sheet1', 'Sheet2'; holding the contract's columns: none",
            )
        ],
    )
    formula = nact.astype(object).copy()
    formula.loc[2, "age"] = "=40+5"
    case(
        "excel_formula_without_saved_value",
        nact_name="nact_cohort.xlsx",
        nact_text=workbook({"Sheet1": formula}),
        expected=[("nact_cohort.xlsx", 4, "age", "=40+5", "a formula without a saved value")],
    )
    formula = bone.astype(object).copy()
    formula.loc[1, "patient_id"] = '="SYN-"&"BONE-9"'
    case(
        "excel_formula_in_patient_id",
        bone_name="bone_cohort.xlsx",
        bone_text=workbook({"Sheet1": formula}),
        expected=[("bone_cohort.xlsx", 3, "patient_id", "", "a formula without a saved value")],
    )
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # the header of an OLE file (.xls, protected .xlsx)
    case(
        "excel_password_protected",
        nact_name="nact_cohort.xlsx",
        nact_text=ole,
        expected=[
            (
                "nact_cohort.xlsx",
                "",
                "",
                "",
                "cannot read the Excel file: it is an old-format .xls workbook or a password-protected file",
            )
        ],
    )
    case(
        "excel_old_xls_format",
        nact_name="nact_cohort.xls",
        nact_text=ole,
        expected=[("nact_cohort", "", "", "", "file not found (nact_cohort.xls is not a format read here)")],
    )
    case(
        "excel_saved_as_csv",
        nact_text=workbook({"Sheet1": nact}),
        expected=[("nact_cohort.csv", "", "", "", "the file is a zip archive (an .xlsx workbook?), not text")],
    )
    case(
        "excel_empty_workbook",
        bone_name="bone_cohort.xlsx",
        bone_text=workbook({"Sheet1": [], "Sheet2": []}),
        expected=[("bone_cohort.xlsx", "", "", "", "the workbook holds no data (sheets: 'Sheet1', 'Sheet2')")],
    )
    case(
        "excel_header_only",
        bone_name="bone_cohort.xlsx",
        bone_text=workbook({"Sheet1": [list(bone.columns)]}),
        expected=[("bone_cohort.xlsx", "", "", "", "the file has a header but no rows")],
    )
    case(
        "excel_header_not_in_row_1",
        nact_name="nact_cohort.xlsx",
        nact_text=workbook({"Sheet1": [[None]] + [list(nact.columns)] + nact.values.tolist()}),
        expected=[("nact_cohort.xlsx", 1, "", "", "row 1 of sheet 'Sheet1' is empty")],
    )
    import datetime

    odd = nact.astype(object).copy()
    odd.loc[1, "age"] = "#DIV/0!"  # openpyxl stores an error code as an error cell
    odd.loc[3, "age"] = datetime.datetime(2024, 1, 5)
    odd.loc[5, "age"] = 45.5
    case(
        "excel_error_date_and_decimal_ages",
        nact_name="nact_cohort.xlsx",
        nact_text=workbook({"Sheet1": odd}),
        expected=[
            ("nact_cohort.xlsx", 3, "age", "#DIV/0!", "not a whole number"),
            ("nact_cohort.xlsx", 5, "age", "2024-01-05 00:00:00", "not a whole number"),
            ("nact_cohort.xlsx", 7, "age", "45.5", "not a whole number"),
        ],
    )


def bad_encodings():
    """Broken UTF-8 (refused by line, never mojibake), UTF-16 without BOM, bytes of no known encoding."""
    text = text_of(with_city(nact)).encode("utf-8")
    broken = text.replace(CITY.encode("utf-8") + b"\n", CITY.encode("cp1252") + b"\n", 5)
    broken = broken.replace(CITY.encode("cp1252"), CITY.encode("utf-8"), 3)  # rows 2-4 UTF-8 again: 5, 6 broken
    case(
        "utf8_with_some_cp1252_bytes",
        nact_text=broken,
        expected=[
            (
                "nact_cohort.csv",
                5,
                "city",
                "Z<0xFC>rich <0x96> <0x80>",
                "bytes that are not UTF-8 in a file that is UTF-8 elsewhere (line 5)",
            ),
            (
                "nact_cohort.csv",
                6,
                "city",
                "Z<0xFC>rich <0x96> <0x80>",
                "bytes that are not UTF-8 in a file that is UTF-8 elsewhere (line 6)",
            ),
        ],
    )
    bad_id = with_city(nact).copy()
    bad_id.loc[2, "patient_id"] = "SYN-NACT-@ff@3"  # one undecodable byte (0xff) in an id
    case(
        "utf8_bad_byte_in_patient_id",
        nact_text=raw_bytes(text_of(bad_id)),
        expected=[
            (
                "nact_cohort.csv",
                4,
                "patient_id",
                "",
                "bytes that are not UTF-8 in a file that is UTF-8 elsewhere (line 4)",
            )
        ],
    )
    bom = nact.assign(comment="ok").copy()
    bom.loc[1, "comment"] = "caf@e9@"
    case(
        "utf8_bom_with_a_bad_byte",
        nact_text=b"\xef\xbb\xbf" + raw_bytes(text_of(bom)),
        expected=[
            (
                "nact_cohort.csv",
                3,
                "comment",
                "caf<0xE9>",
                "bytes that are not UTF-8 in a file marked as UTF-8 (line 3)",
            )
        ],
    )
    case(
        "utf16_without_bom",
        bone_text=text_of(bone, "\t").encode("utf-16-le"),
        expected=[("bone_cohort.csv", "", "", "", "the file holds NUL bytes throughout")],
    )
    unknown = bone.assign(comment="ok").copy()
    unknown.loc[3, "comment"] = "x@81@y"  # 0x81: defined in neither UTF-8 nor Windows-1252
    case(
        "byte_of_no_known_encoding",
        bone_text=raw_bytes(text_of(unknown)),
        expected=[
            ("bone_cohort.csv", 5, "comment", "x<0x81>y", "bytes that are neither UTF-8 nor Windows-1252 (line 5)")
        ],
    )
    case(
        "utf16_txt_unknown_category",
        nact_name="nact_cohort.txt",
        nact_text=text_of(edit(nact, 1, "menopausal_status", "ménopausée"), "\t"),
        encoding="utf-16",
        expected=[("nact_cohort.txt", 3, "menopausal_status", "ménopausée", "not an allowed category")],
    )
    case(
        "cp1252_unknown_category",
        nact_df=edit(nact, 1, "menopausal_status", "post–menopausal’"),
        encoding="cp1252",
        expected=[("nact_cohort.csv", 3, "menopausal_status", "post–menopausal’", "not an allowed category")],
    )


def bad_numbers_and_ids():
    """Ages that are not plain whole numbers; ids with invisible characters or hidden duplicates."""
    for label, row, value in (
        ("exponent", 0, "1e2"),
        ("exponent_decimal", 1, "4.5e1"),
        ("plus_sign", 2, "+45"),
        ("fullwidth_digits", 3, "４５"),
        ("trailing_dot", 4, "45."),
        ("non_ascii_space", 5, "45\u00a0"),
    ):
        case(
            f"age_{label}",
            nact_df=edit(nact, row, "age", value),
            expected=[("nact_cohort.csv", row + 2, "age", value, "not a whole number")],
        )
    case(
        "age_decimal_comma",
        nact_df=edit(nact, 6, "age", "45,0"),
        sep=";",
        expected=[("nact_cohort.csv", 8, "age", "45,0", "not a whole number")],
    )
    for label, row, char, described in (
        ("zero_width_space", 3, "\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("control_character", 4, "\x01", "U+0001 (a control character)"),
        ("nul", 5, "\x00", "U+0000 (a control character)"),
        ("non_ascii_space", 6, "\u00a0", "U+00A0 (NO-BREAK SPACE)"),
        ("line_separator", 7, "\u2028", "U+2028 (LINE SEPARATOR)"),
        ("byte_order_mark", 2, "\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
    ):
        bad = nact.copy()
        bad.loc[row, "patient_id"] = bad.loc[row, "patient_id"][:4] + char + bad.loc[row, "patient_id"][4:]
        case(
            f"id_{label}",
            nact_df=bad,
            expected=[
                (
                    "nact_cohort.csv",
                    row + 2,
                    "patient_id",
                    "",
                    f"patient_id contains an invisible character {described}",
                )
            ],
        )
    composed = unicodedata.normalize("NFC", "SYN-Zoé-1")
    case(
        "id_duplicate_after_unicode_normalisation",
        bone_df=edit(edit(bone, 1, "patient_id", composed), 5, "patient_id", unicodedata.normalize("NFD", composed)),
        expected=[("bone_cohort.csv", 7, "patient_id", "", "duplicate patient_id: same id as row 3")],
    )
    case(
        "id_duplicate_with_padding",
        nact_df=edit(nact, 6, "patient_id", "  " + nact.loc[0, "patient_id"] + " "),
        expected=[("nact_cohort.csv", 8, "patient_id", "", "duplicate patient_id: same id as row 2")],
    )
    case(
        "center_invisible_character",
        bone_df=edit(bone, 2, "center", "007\u200b"),
        expected=[
            (
                "bone_cohort.csv",
                4,
                "center",
                "007\u200b",
                "center contains an invisible character U+200B (ZERO WIDTH SPACE)",
            )
        ],
    )


def bad_layout():
    """Files the csv module cannot take as they are: huge fields, open quotes, ragged rows; links outside."""
    big = nact.assign(comment="ok").copy()
    big.loc[1, "comment"] = "x" * 200_000
    case(
        "oversized_field",
        nact_text=text_of(big),
        expected=[("nact_cohort.csv", 3, "", "", "a field longer than 131,072 characters")],
    )
    lines = text_of(nact).splitlines()
    lines[3] = quote_field(lines[3], 6, '"{}')
    case(
        "unclosed_quote",
        nact_text="\n".join(lines) + "\n",
        expected=[("nact_cohort.csv", 4, "", "", "a quote opened in this row is never closed")],
    )
    lines = text_of(nact).splitlines()
    lines[2] = quote_field(lines[2], 6, '"{}"x')
    case(
        "text_after_closing_quote",
        nact_text="\n".join(lines) + "\n",
        expected=[("nact_cohort.csv", 3, "", "", "a closing quote followed by other text in the same field")],
    )
    lines = text_of(bone).splitlines()
    case(
        "ragged_file_trailing_delimiter",
        bone_text="\n".join([lines[0]] + [x + "," for x in lines[1:]]) + "\n",
        expected=[("bone_cohort.csv", i, "", "", "13 fields where the header has 12") for i in range(2, 10)],
    )
    folder = case(
        "symlink_outside_the_folder",
        nact_name=None,
        expected=[("nact_cohort.csv", "", "", "", "the file is a link to a file outside the data folder")],
    )
    (folder / "nact_cohort.csv").symlink_to("../../README.md")


def messy_encodings_and_sheets():
    """Valid files in the other encodings and layouts a site's software writes."""
    case(
        "utf16_txt_excel_unicode_text",
        nact_df=with_city(nact),
        bone_df=with_city(bone),
        encoding="utf-16",
        sep="\t",
        nact_name="nact_cohort.txt",
        bone_name="bone_cohort.txt",
        reading=[
            ("nact_cohort", "nact_cohort.txt", "delimited text", "UTF-16 with BOM", "tab", ""),
            ("bone_cohort", "bone_cohort.txt", "delimited text", "UTF-16 with BOM", "tab", ""),
        ],
    )
    case(
        "cp1252",
        nact_df=with_city(nact),
        bone_df=with_city(bone),
        encoding="cp1252",
        sep=";",
        reading=[
            ("nact_cohort", "nact_cohort.csv", "delimited text", "cp1252", "semicolon", ""),
            ("bone_cohort", "bone_cohort.csv", "delimited text", "cp1252", "semicolon", ""),
        ],
    )
    case(
        "utf8_without_bom",
        nact_df=with_city(nact),
        bone_df=with_city(bone),
        reading=[
            ("nact_cohort", "nact_cohort.csv", "delimited text", "UTF-8", "comma", ""),
            ("bone_cohort", "bone_cohort.csv", "delimited text", "UTF-8", "comma", ""),
        ],
    )
    ages = nact.copy()
    ages["age"] = [f"{a}.0" if i % 3 == 0 else f" {a} " if i % 3 == 1 else f"{a}.00" for i, a in enumerate(ages["age"])]
    case(
        "ages_with_dot_zero_and_spaces",
        nact_df=ages,
        nact_name="nact_cohort.tsv",
        sep="\t",
        bone_text=text_of(bone, trailer=","),  # a trailing delimiter on every line: an empty column, ignored
        reading=[
            ("nact_cohort", "nact_cohort.tsv", "delimited text", "ASCII", "tab", ""),
            ("bone_cohort", "bone_cohort.csv", "delimited text", "ASCII", "comma", ""),
        ],
    )
    case(
        "excel_one_data_sheet_among_empty_ones",
        nact_name="nact_cohort.xlsx",
        bone_name="bone_cohort.xlsx",
        nact_text=workbook({"Notes": [], "Export": nact, "Sheet3": []}),
        bone_text=workbook({"Bone": bone, "Empty": [[None, ""]]}),
        reading=[
            ("nact_cohort", "nact_cohort.xlsx", "Excel workbook", "", "", "Export"),
            ("bone_cohort", "bone_cohort.xlsx", "Excel workbook", "", "", "Bone"),
        ],
    )
    case(
        "excel_contract_sheet_among_data_sheets",
        nact_name="nact_cohort.xlsx",
        nact_text=workbook({"Read me": [["Export of 2026-11-30"], ["one row per patient"]], "Data": nact}),
        reading=[
            ("nact_cohort", "nact_cohort.xlsx", "Excel workbook", "", "", "Data"),
            ("bone_cohort", "bone_cohort.csv", "delimited text", "ASCII", "comma", ""),
        ],
    )


def make_site_b():
    """A smaller synthetic site with messy but valid encodings, for the multi-site run."""
    import sys

    sys.path.insert(0, str(ROOT / "lib"))  # this script runs outside the package's tests
    from microcalc.cohorts import synthesize
    from microcalc.cohorts.contract import to_canonical_csv

    folder = HERE / "sites" / "site_b"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    n = to_canonical_csv(synthesize.generate_nact(seed=11), "nact_cohort").sample(180, random_state=11)
    b = to_canonical_csv(synthesize.generate_bone(seed=11, n=500), "bone_cohort")
    n["patient_id"] = n["patient_id"].str.replace("SYN-NACT-", "B-NACT-")
    b["patient_id"] = b["patient_id"].str.replace("SYN-BONE-", "B-BONE-")
    n["molecular_subtype"] = n["molecular_subtype"].map(
        {
            "luminal_a": "Luminal A",
            "luminal_b": "Luminal-B",
            "her2_enriched": "HER2 enriched",
            "triple_negative": "TRIPLE NEGATIVE",
        }
    )
    n["pcr"] = n["pcr"].map({"yes": "Y", "no": "N"})
    n["mri_necrosis"] = n["mri_necrosis"].replace({"": "not assessable"}).replace({"not assessable": "unknown"})
    b["bone_metastasis"] = b["bone_metastasis"].map({"yes": "1", "no": "0"})
    b["t_stage"] = b["t_stage"].str.lower()
    b["bone_metastasis_extent"] = b["bone_metastasis_extent"].replace({"whole_body": "whole body"})
    n.to_csv(folder / "nact_cohort.csv", index=False, sep=";", encoding="utf-8-sig", lineterminator="\n")
    b.to_csv(folder / "bone_cohort.csv", index=False, sep="\t", encoding="latin-1", lineterminator="\n")
    (HERE / "sites.yaml").write_text(
        "# Two sites for the multi-site run (python -m microcalc.pipeline.run --sites tests/inputs/sites.yaml):\n"
        "# the bundled synthetic cohorts, and a smaller synthetic site with messy but valid encodings.\n"
        "sites:\n  - name: bundled\n    data_dir: data/raw\n"
        "  - name: site_b\n    data_dir: tests/inputs/sites/site_b\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    import sys as _sys

    make_site_b() if "--site-b" in _sys.argv else main()
