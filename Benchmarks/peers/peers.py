"""Loro and Yrs on FieldSync's change mix: bytes on the wire and import speed.

Input (the file named on the command line), written by fieldsync-bench:
    {"pushes": [[[{"t": table, "r": record id, "f": {field: value}, "d": deleted}, ...], ...], ...]}
i.e. pushes, each a list of change sets, each a list of changes.

Each engine holds one document with a root map per table and a nested map per record; each
change set is one transaction, and each push is one update (the changes since the previous
push), as a phone would send it. Output: JSON with, per engine, the version, the total bytes of
the updates, and the best of three times to import every update into a new document.
"""

import json
import zlib
import sys
import time
from importlib.metadata import version

from loro import ExportMode, LoroDoc, LoroMap
from pycrdt import Doc, Map


def loro_updates(pushes):
    doc = LoroDoc()
    updates = []
    for push in pushes:
        before = doc.oplog_vv
        for change_set in push:
            for change in change_set:
                table = doc.get_map(change["t"])
                if change["d"]:
                    table.delete(change["r"])
                    continue
                record = table.get_or_create_container(change["r"], LoroMap())
                for field, value in change["f"].items():
                    record.insert(field, value)
            doc.commit()
        updates.append(doc.export(ExportMode.Updates(before)))
    return updates


def import_seconds(updates, new_doc, apply):
    """The best of three times to apply every update, in order, to a new document."""
    best = float("inf")
    for _ in range(3):
        doc = new_doc()
        start = time.perf_counter()
        for update in updates:
            apply(doc, update)
        best = min(best, time.perf_counter() - start)
    return best


def yrs_updates(pushes):
    doc = Doc()
    roots = {}
    updates = []
    for push in pushes:
        before = doc.get_state()
        for change_set in push:
            with doc.transaction():
                for change in change_set:
                    table = roots.get(change["t"])
                    if table is None:
                        table = roots[change["t"]] = doc.get(change["t"], type=Map)
                    if change["d"]:
                        table.pop(change["r"], None)
                        continue
                    try:
                        record = table[change["r"]]
                    except KeyError:
                        table[change["r"]] = Map()
                        record = table[change["r"]]
                    for field, value in change["f"].items():
                        record[field] = value
        updates.append(doc.get_update(before))
    return updates


def deflated(updates):
    """The updates' bytes compressed as FieldSync compresses its frames: one zlib stream
    (RFC 1950) per message, level 6, so that the wire figures compare like with like."""
    return sum(len(zlib.compress(update, 6)) for update in updates)


def main():
    with open(sys.argv[1]) as file:
        pushes = json.load(file)["pushes"]
    changes = sum(len(change_set) for push in pushes for change_set in push)
    loro = loro_updates(pushes)
    yrs = yrs_updates(pushes)
    print(json.dumps({
        "changes": changes,
        "loro": {"version": version("loro"), "bytes": sum(map(len, loro)), "deflated_bytes": deflated(loro),
                 "import_seconds": import_seconds(loro, LoroDoc, LoroDoc.import_)},
        "yrs": {"version": "pycrdt " + version("pycrdt"), "bytes": sum(map(len, yrs)), "deflated_bytes": deflated(yrs),
                "import_seconds": import_seconds(yrs, Doc, Doc.apply_update)},
    }))


if __name__ == "__main__":
    main()
