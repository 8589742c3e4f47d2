"""Read and write the people and categories CSV files of ``sortition-algorithms``.

Categories file: columns ``feature, value, min, max`` (or the older ``category, name, min, max``;
``min_flex``/``max_flex`` are accepted and ignored). People file: one id column (``id`` by default,
else ``nationbuilder_id`` as in the reference's default settings, or any name passed in), one column
per feature, optional address columns. Headers and feature values match case-insensitively and are
stripped of surrounding spaces, as in the reference.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sortition.errors import BadDataError
from sortition.types import Categories, Person, Pool, Quota

FEATURE_HEADERS = ("feature", "category")
VALUE_HEADERS = ("value", "name", "category value", "category_value", "category-value")
DEFAULT_ID_COLUMNS = ("id", "nationbuilder_id")
MAX_REPORTED = 20


def decode(data: bytes | str, file: str) -> str:
    """Decode CSV bytes as UTF-8 (BOM allowed, UTF-16 with BOM accepted).

    Raises:
        BadDataError: naming the line and column of the first byte that is not UTF-8, so a file that
            mixes encodings (say a Latin-1 row pasted into a UTF-8 file) is pointed at precisely.
    """
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        header = data.split(b"\n", 1)[0].decode("utf-8", "replace")
        field_index = data[line_start:start].count(b",")
        names = next(csv.reader([header])) if header else []
        column = names[field_index].strip() if field_index < len(names) else str(field_index + 1)
        raise BadDataError(
            f"byte 0x{data[start]:02x} is not valid UTF-8 (the file mixes encodings or is not UTF-8); "
            "save it as UTF-8",
            code="bad_encoding",
            params={"byte_offset": start},
            file=file,
            line=line,
            column=column,
        ) from None


def _rows(text: str, file: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise BadDataError("the file is empty", code="empty_file", file=file, line=1)
        header = [h.strip() for h in header]
        body: list[tuple[int, list[str]]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
                raise BadDataError(
                    f"row has {len(row)} fields but the header has {len(header)}",
                    code="too_many_fields",
                    params={"fields": len(row), "header_fields": len(header)},
                    file=file,
                    line=reader.line_num,
                )
            row = [c.strip() for c in row[: len(header)]] + [""] * (len(header) - len(row))
            body.append((reader.line_num, row))
    except csv.Error as exc:
        raise BadDataError(f"malformed CSV: {exc}", code="malformed_csv", file=file, line=reader.line_num) from None
    lowered = [h.lower() for h in header]
    for name in lowered:
        if name and lowered.count(name) > 1:
            raise BadDataError(
                f"column {name!r} appears more than once in the header",
                code="duplicate_column",
                params={"column": name},
                file=file,
                line=1,
                column=name,
            )
    return header, body


def _find(header: list[str], candidates: Sequence[str], file: str, label: str) -> int:
    lowered = [h.lower() for h in header]
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    raise BadDataError(
        f"no {label} column: looked for {', '.join(candidates)} (found {', '.join(header)})",
        code="missing_column",
        params={"column": candidates[0], "looked_for": list(candidates)},
        file=file,
        line=1,
    )


def _int(cell: str, file: str, line: int, column: str) -> int:
    try:
        value = int(cell)
    except ValueError:
        raise BadDataError(
            f"{cell!r} is not a whole number" if cell else f"no {column} value set",
            code="not_a_number" if cell else "no_value_set",
            params={"value": cell},
            file=file,
            line=line,
            column=column,
        ) from None
    if value < 0:
        raise BadDataError(
            f"{column} must not be negative (got {value})", code="negative", file=file, line=line, column=column
        )
    return value


def parse_categories(data: bytes | str, file: str = "categories.csv") -> Categories:
    """Parse a categories (features/quotas) file.

    Args:
        data: the file's bytes or text.
        file: the name used in error messages.

    Returns:
        The features in file order, with one :class:`Quota` per feature value.

    Raises:
        BadDataError: bad encoding, missing columns, non-numeric or negative bounds, min > max,
            duplicate feature values, or no rows.
    """
    header, body = _rows(decode(data, file), file)
    fi = _find(header, FEATURE_HEADERS, file, "feature")
    vi = _find(header, VALUE_HEADERS, file, "value")
    mini = _find(header, ("min",), file, "min")
    maxi = _find(header, ("max",), file, "max")
    features: list[str] = []
    values: dict[str, list[str]] = {}
    quotas: dict[tuple[str, str], Quota] = {}
    canonical_feature: dict[str, str] = {}
    for line, row in body:
        fname = row[fi]
        if not fname:
            continue  # the reference skips rows without a feature name
        value = row[vi]
        if not value:
            raise BadDataError(
                f"empty value for feature {fname!r}",
                code="empty_feature_value",
                params={"feature": fname},
                file=file,
                line=line,
                column=header[vi],
            )
        lo = _int(row[mini], file, line, header[mini])
        hi = _int(row[maxi], file, line, header[maxi])
        if lo > hi:
            raise BadDataError(
                f"min ({lo}) is greater than max ({hi}) for {fname}={value}",
                code="min_greater_than_max",
                params={"feature": fname, "value": value, "min": lo, "max": hi},
                file=file,
                line=line,
                column=header[mini],
            )
        fname = canonical_feature.setdefault(fname.lower(), fname)
        if fname not in values:
            features.append(fname)
            values[fname] = []
        if any(v.lower() == value.lower() for v in values[fname]):
            raise BadDataError(
                f"value {value!r} of feature {fname!r} is listed twice",
                code="duplicate_feature_value",
                params={"feature": fname, "value": value},
                file=file,
                line=line,
                column=header[vi],
            )
        values[fname].append(value)
        quotas[(fname, value)] = Quota(fname, value, lo, hi, line)
    if not features:
        raise BadDataError("no feature rows found", code="no_features", file=file, line=1)
    return Categories(tuple(features), {f: tuple(v) for f, v in values.items()}, quotas, file)


def parse_people(
    data: bytes | str,
    categories: Categories,
    *,
    id_column: str | None = None,
    address_columns: Sequence[str] = (),
    file: str = "people.csv",
) -> Pool:
    """Parse a people (pool) file against ``categories``.

    Args:
        data: the file's bytes or text.
        categories: parsed categories; every feature must be a column of the people file.
        id_column: the unique id column; by default ``id`` or else ``nationbuilder_id``.
        address_columns: columns that together identify a household (at most one person per
            household is selected). A person whose address cells are all empty has no household.
        file: the name used in error messages.

    Returns:
        A :class:`Pool` with people sorted by id. Rows with an empty id are skipped (as in the
        reference); rows repeated verbatim are kept once.

    Raises:
        BadDataError: bad encoding, missing columns, duplicate ids, unknown or empty feature values.
    """
    header, body = _rows(decode(data, file), file)
    idx = _find(header, (id_column.lower(),) if id_column else DEFAULT_ID_COLUMNS, file, "id")
    feature_idx = [_find(header, (f.lower(),), file, f"feature {f!r}") for f in categories.features]
    address_idx = [_find(header, (a.strip().lower(),), file, f"address {a!r}") for a in address_columns]
    seen: dict[str, tuple[int, list[str]]] = {}
    people: list[Person] = []
    problems: list[BadDataError] = []
    for line, row in body:
        pid = row[idx]
        if not pid:
            continue
        if pid in seen:
            first_line, first_row = seen[pid]
            if first_row == row:
                continue
            problems.append(
                BadDataError(
                    f"id {pid!r} is used on lines {first_line} and {line} with different data",
                    code="duplicate_id",
                    params={"id": pid, "lines": [first_line, line]},
                    file=file,
                    line=line,
                    column=header[idx],
                )
            )
            continue
        seen[pid] = (line, row)
        vals: list[str] = []
        for feature, col in zip(categories.features, feature_idx, strict=True):
            value = categories.canonical_value(feature, row[col])
            if value is None:
                allowed = ", ".join(categories.values[feature])
                problems.append(
                    BadDataError(
                        f"value {row[col]!r} is not one of the values of {feature!r} ({allowed})"
                        if row[col]
                        else f"empty value for feature {feature!r}",
                        code="value_not_in_feature" if row[col] else "empty_value_in_feature",
                        params={"id": pid, "feature": feature, "value": row[col]},
                        file=file,
                        line=line,
                        column=header[col],
                    )
                )
                value = ""
            vals.append(value)
        household = tuple(row[i].lower() for i in address_idx) if address_idx else None
        if household is not None and not any(household):
            household = None
        people.append(Person(pid, tuple(vals), household, line))
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        first.message += more
        first.params["problems"] = [str(p) for p in problems[:MAX_REPORTED]]
        raise first
    people.sort(key=lambda p: p.id)
    return Pool(categories, tuple(people), tuple(address_columns), file)


def write_categories(quotas: Sequence[Quota]) -> str:
    """Categories CSV text (``feature,value,min,max``) for ``quotas``, readable by the reference."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["feature", "value", "min", "max"])
    for q in quotas:
        writer.writerow([q.feature, q.value, q.min, q.max])
    return out.getvalue()
