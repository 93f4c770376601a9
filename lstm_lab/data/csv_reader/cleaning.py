"""Step 6, values, order, repeated times and gaps -> the Series, each repair noted."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lstm_lab.data.csv_reader.columns import Roles
from lstm_lab.data.csv_reader.options import choose, turn_on_fill_gaps
from lstm_lab.data.csv_reader.table import Table, examples
from lstm_lab.data.csv_reader.times import time_values
from lstm_lab.data.series import Series, infer_freq
from lstm_lab.errors import DataError


def build_series(table: Table, roles: Roles, label: str, bad_values: str, duplicates: str,
                  fill_gaps: bool, notes: list[str],
                  inputs: tuple[str, ...] = ()) -> tuple[Series, np.ndarray, np.ndarray]:
    """The Series, and for each of its points the file line it came from (NaN: a filled gap;
    the first line of repeated rows averaged into one) and whether its value was interpolated (an empty or unreadable
    cell, or a filled gap).

    ``inputs``: other columns (checked by ``columns.input_columns``) read beside the value and
    cleaned by the same options: a row with a bad input cell is dropped, refused or interpolated
    like one with a bad value, repeated times average them too, and filled gaps fill them."""
    value = roles.value
    numbers = _checked_numbers(table, value, label)
    frame = pd.DataFrame({"value": numbers.to_numpy(), "cell": table.frame[value].to_numpy(),
                          "line": table.lines.astype("float64")})
    for j, name in enumerate(inputs):
        frame[_input(j)] = _checked_numbers(table, name, label, role="input column").to_numpy()
        frame[_input(j) + "cell"] = table.frame[name].to_numpy()
    period = roles.kind == "year_index"
    if roles.time is not None:
        frame["time"] = time_values(table, roles, label, notes).to_numpy()
    else:
        notes.append("No column holds dates in a known format, so the row number is the time "
                     "(pick a date column to change this).")
    columns = {"value": value, **{_input(j): name for j, name in enumerate(inputs)}}
    for key, name in columns.items():
        frame = _apply_bad_value_policy(frame, key, name, bad_values, label, notes)
    if roles.time is not None:
        frame = _sort_by_time(frame, roles.time, notes)
        frame = _merge_duplicates(frame, roles.time, duplicates, label, notes)
        frame = _handle_gaps(frame, roles.time, fill_gaps, notes)
    filled = np.zeros(len(frame), bool)      # the value's own repairs (the preview's notes)
    for key, name in columns.items():
        frame, missing = _interpolate(frame, key, name, label, notes)
        if key == "value":
            filled = missing
    if len(frame) < 2:
        raise DataError(f"{label}: only {len(frame)} usable row(s) in column '{value}'; a series "
                        "needs at least 2. Add data rows, or choose another column.")
    if roles.time is None:
        index: pd.Index = pd.RangeIndex(len(frame), name="row")
    elif period:
        index = pd.Index(frame["time"].astype("int64"), name="period")
    else:
        index = pd.DatetimeIndex(frame["time"], name=roles.time)
    extra = np.column_stack([frame[_input(j)].to_numpy(float) for j in range(len(inputs))]) \
        if inputs else None
    for j, name in enumerate(inputs):
        if np.ptp(extra[:, j]) == 0:
            raise DataError(f"{label}: input column '{name}' has the same value "
                            f"({extra[0, j]:g}) on every row, so it tells the networks "
                            "nothing. Leave it out of the inputs.")
    series = Series(frame["value"].to_numpy(float), index, name=value, freq=_freq(index),
                    source=label, season_override=12 if period else None, inputs=extra,
                    input_names=tuple(inputs))
    return series, frame["line"].to_numpy(float), filled


def _input(j: int) -> str:
    """The working frame's column for input ``j`` (its cells' text: ``_input(j) + "cell"``)."""
    return f"input{j}"


def _checked_numbers(table: Table, column: str, label: str, role: str = "column") -> pd.Series:
    """The value column (or an input column, ``role``) as floats; refuses text columns,
    infinite values and, for an input, a column mostly empty."""
    numbers = table.numbers(column)
    cells = table.frame[column]
    readable = int(numbers.notna().sum())
    filled = int((~table.missing(column)).sum())
    if filled == 0:
        raise DataError(f"{label}: {role} '{column}' is empty (lines {table.lines[0]}-"
                        f"{table.lines[-1]}). Choose a column of numbers.")
    if readable < filled / 2:
        bad = (numbers.isna() & ~table.missing(column)).to_numpy()
        where = examples(table.lines[bad], cells.to_numpy()[bad])
        raise DataError(f"{label}: {role} '{column}' is not numeric: {filled - readable} of "
                        f"{filled} filled cells are not numbers ({where}). Choose a column of "
                        "numbers.")
    if role != "column" and readable < len(numbers) / 2:
        raise DataError(f"{label}: {role} '{column}' is almost empty: only {readable:,} of "
                        f"{len(numbers):,} rows hold a number. Leave it out of the inputs.")
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        where = examples(table.lines[infinite], cells.to_numpy()[infinite])
        raise DataError(f"{label}: column '{column}' has {int(infinite.sum())} infinite "
                        f"value(s): {where}. Replace them with finite numbers, or empty the "
                        "cells to have them treated as missing.")
    return numbers


def _apply_bad_value_policy(frame: pd.DataFrame, key: str, column: str, policy: str, label: str,
                            notes: list[str]) -> pd.DataFrame:
    """Refuse or drop rows whose value (the frame's ``key``: "value" or an input's) is empty or
    unreadable; "interpolate" waits for order."""
    bad = frame[key].isna().to_numpy()
    if not bad.any() or policy == "interpolate":
        return frame
    where = examples(frame["line"].to_numpy()[bad], frame[_cells(key)].to_numpy()[bad])
    if policy == "error":
        raise DataError(f"{label}: column '{column}' has {int(bad.sum())} empty or unreadable "
                        f"cell(s): {where}. Fix them, or "
                        f"{choose('bad_values', 'interpolate', 'drop')}.")
    notes.append(f"Dropped {int(bad.sum())} row(s) with an empty or unreadable value in "
                 f"'{column}': {where}.")
    return frame[~bad]


def _cells(key: str) -> str:
    """The working frame's column of the cells' text behind ``key``."""
    return "cell" if key == "value" else key + "cell"


def _sort_by_time(frame: pd.DataFrame, column: str, notes: list[str]) -> pd.DataFrame:
    times = frame["time"]
    if times.is_monotonic_increasing:
        return frame
    later = np.flatnonzero(times.to_numpy()[1:] < times.to_numpy()[:-1])[0] + 1
    notes.append(f"Rows were not in time order (line {int(frame['line'].iloc[later])}, "
                 f"{_time_text(frame['time'].iloc[later])}, comes after a later time); they were "
                 f"sorted by '{column}'.")
    return frame.sort_values("time", kind="stable")


def _merge_duplicates(frame: pd.DataFrame, column: str, policy: str, label: str,
                      notes: list[str]) -> pd.DataFrame:
    repeated = frame["time"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame
    first = frame["time"].to_numpy()[repeated][0]
    lines = frame["line"].to_numpy()[frame["time"].to_numpy() == first]
    where = f"{_time_text(first)} on lines {', '.join(str(int(n)) for n in lines[:5])}"
    n_times = frame["time"][repeated].nunique()
    if policy == "error":
        raise DataError(f"{label}: {n_times} time(s) appear more than once in column '{column}', "
                        f"first {where}. Keep one row per time, or "
                        f"{choose('duplicates', 'mean', 'last')}.")
    if policy == "last":
        frame = frame.drop_duplicates("time", keep="last")
    else:
        inputs = [c for c in frame.columns if c.startswith("input") and not c.endswith("cell")]
        frame = frame.groupby("time", as_index=False, sort=True).agg(
            value=("value", "mean"), cell=("cell", "first"), line=("line", "first"),
            **{c: (c, "mean") for c in inputs}, **{c + "cell": (c + "cell", "first")
                                                   for c in inputs})
    notes.append(f"{n_times} time(s) appear more than once in '{column}' (first {where}); kept "
                 f"{'their mean' if policy == 'mean' else 'the last row of each'}.")
    return frame


def _handle_gaps(frame: pd.DataFrame, column: str, fill: bool, notes: list[str]) -> pd.DataFrame:
    """Report the time points missing from a regular series, or add them (values to interpolate)."""
    times = pd.Index(frame["time"])
    found = _regular_grid(times)
    if found is None or len(found[0]) == len(times):
        return frame
    grid, step = found
    missing = grid.difference(times)
    shown = ", ".join(_time_text(t) for t in missing[:5]) + (", ..." if len(missing) > 5 else "")
    if not fill:
        notes.append(f"'{column}' has {len(missing)} gap(s) in its {step} sequence: {shown}. They "
                     "are left out, so time is not evenly spaced there; "
                     f"{turn_on_fill_gaps()} to interpolate them.")
        return frame
    notes.append(f"Filled {len(missing)} missing {step} time point(s) in '{column}' ({shown}) by "
                 "linear interpolation.")
    filled = frame.set_index("time").reindex(grid)
    return filled.rename_axis("time").reset_index()


def _regular_grid(times: pd.Index) -> tuple[pd.Index, str] | None:
    """The evenly spaced sequence the (sorted, unique) times come from, or None if irregular.

    Month starts and ends are spaced in calendar months (28-31 days apart), other times by
    their smallest step. A grid over twice as long as the data is taken as irregular data.
    """
    if len(times) < 3:
        return None
    if not isinstance(times, pd.DatetimeIndex):         # year-index data: a count of months
        ints = times.to_numpy(dtype="int64")
        step = int(np.diff(ints).min())
        if step < 1 or ((ints - ints[0]) % step).any() or (ints[-1] - ints[0]) // step >= 2 * len(ints):
            return None
        return pd.Index(range(ints[0], ints[-1] + 1, step), dtype="int64"), "monthly"
    midnight = bool((times == times.normalize()).all())
    month_start, month_end = midnight and (times.day == 1).all(), midnight and times.is_month_end.all()
    if month_start or month_end:
        months = np.asarray(times.year * 12 + times.month, dtype="int64")
        step = int(np.diff(months).min())
        if step < 1 or ((months - months[0]) % step).any() or \
                (months[-1] - months[0]) // step >= 2 * len(months):
            return None
        freq = f"{step}{'MS' if month_start else 'ME'}"
        name = {1: "monthly", 3: "quarterly", 12: "yearly"}.get(step, f"{step}-month")
        return pd.date_range(times[0], times[-1], freq=freq), name
    stamps = times.to_numpy()
    step = np.diff(stamps).min()
    if step <= np.timedelta64(0) or ((stamps - stamps[0]) % step).astype("int64").any() or \
            (stamps[-1] - stamps[0]) // step >= 2 * len(stamps):
        return None
    day = np.timedelta64(1, "D")
    if step == day and midnight and not (times.day_of_week >= 5).any():
        return pd.bdate_range(times[0], times[-1]), "business-day"
    name = {day: "daily", 7 * day: "weekly", np.timedelta64(1, "h"): "hourly"}.get(
        step, f"{pd.tseries.frequencies.to_offset(pd.Timedelta(step)).freqstr}-step")
    return pd.date_range(times[0], times[-1], freq=pd.Timedelta(step)), name


def _interpolate(frame: pd.DataFrame, key: str, column: str, label: str,
                 notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Fill empty or unreadable values of ``key`` ("value" or an input's, named ``column``),
    and added gap points, linearly from their neighbours; returns the frame and which points
    were filled.

    The first and last values have a neighbour on one side only: guessing them would be
    extrapolation, so they are refused with the line to fix.
    """
    missing = frame[key].isna().to_numpy()
    if not missing.any():
        return frame, missing
    cells = _cells(key)
    for position, which in ((0, "first"), (-1, "last")):
        if missing[position]:
            where = examples([frame["line"].iloc[position]], [frame[cells].iloc[position]])
            raise DataError(f"{label}: the {which} value of column '{column}', at {where}, is "
                            "empty or unreadable and cannot be interpolated: it has a neighbour "
                            "on one side only. Fix that cell, or "
                            f"{choose('bad_values', 'drop')}.")
    own = missing & frame["line"].notna().to_numpy()
    if own.any():
        where = examples(frame["line"].to_numpy()[own], frame[cells].to_numpy()[own])
        notes.append(f"Filled {int(own.sum())} empty or unreadable value(s) in '{column}' by "
                     f"linear interpolation: {where}. To change this, "
                     f"{choose('bad_values', 'drop', 'error')}.")
    frame = frame.copy()
    frame[key] = frame[key].interpolate(method="linear")
    return frame, missing


def _freq(index: pd.Index) -> str | None:
    if not isinstance(index, pd.DatetimeIndex):
        return None
    with warnings.catch_warnings():  # pandas 3.1 announces that infer_freq will return offsets
        warnings.simplefilter("ignore", DeprecationWarning)
        return infer_freq(index)


def _time_text(value: object) -> str:
    """A time as a short text: 1984-12-31, 1949-01-01 10:00:00, or period 16."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        text = stamp.isoformat().replace("T", " ")
        return text[:-9] if text.endswith(" 00:00:00") else text
    return f"period {int(value)}"
