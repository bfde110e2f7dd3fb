#!/usr/bin/env python3
"""A rep's day against a FieldSync server, written from SyncProtocol/ alone.

Python's standard library only, and the JSON form of the protocol (encoding.md, messages.md):
register, prime every bucket, then check in at one of the rep's visits, take an order with two
lines and submit it, collect a payment, record the visit's task done, check out and complete the
visit; pull until the server's answer to the order (priced, routed) is back. Exits 0 when every
change was applied (possibly with an exception for review), 1 otherwise, printing why.

    python3 rep_day.py --url http://127.0.0.1:8080 --token <a rep's token>

A second client for the spec: SyncServerTests/ExampleClientTests runs it against
`fieldsync-server dev` in `swift test`.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def new_id(milliseconds):
    """A UUIDv7 (concepts.md: ids are made by the writer): 48 bits of milliseconds, then random."""
    raw = bytearray(os.urandom(16))
    raw[0:6] = milliseconds.to_bytes(6, "big")
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


class Client:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token
        self.counter = 0

    def call(self, route, message_type, body):
        """POSTs one message in the JSON form; returns the answer's (type, body)."""
        request = urllib.request.Request(
            self.url + route, method="POST",
            data=json.dumps({"protocol": 1, "type": message_type, "body": body}).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.token})
        for _ in range(20):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.loads(response.read())
                    return answer["type"], answer["body"]
            except urllib.error.HTTPError as error:
                answer = json.loads(error.read())
                if error.code == 429:  # errors.md: wait, then retry
                    time.sleep(answer["body"].get("retry_after_ms", 500) / 1000)
                    continue
                raise SystemExit(f"{route} answered {error.code}: {answer['body']}")
        raise SystemExit(f"{route} stayed rate-limited")

    # -- values (encoding.md) --------------------------------------------------------------

    @staticmethod
    def value(kind, value):
        return {"kind": kind, "value": value}

    def change(self, table, record, fields):
        """One write; the clock is the server's plus what this phone stamped since (merge-rules.md)."""
        self.counter += 1
        return {"id": new_id(self.now), "table": table, "record": record,
                "version": {"clock": f"{self.now}.{self.counter}", "replica": self.replica},
                "operation": "write",
                "fields": [{"field": name, "value": value} for name, value in fields]}

    def push(self, changes):
        """Pushes one change set; returns its outcomes."""
        kind, body = self.call("/v1/push", "push_request", {
            "batch": new_id(self.now), "change_sets": [{"id": new_id(self.now), "changes": changes}]})
        assert kind == "push_response", kind
        return body["outcomes"]

    # -- the replica ---------------------------------------------------------------------------

    def register(self):
        kind, body = self.call("/v1/register", "register_request", {
            "installation": str(uuid.uuid4()), "app_version": "1.0.0", "platform": "python", "schema_revision": 1})
        assert kind == "register_response", kind
        self.replica = body["replica"]
        self.now = int(body["server_clock"].split(".")[0])
        self.cursors = {bucket: {"bucket": bucket, "sequence": 0} for bucket in body["buckets"]}
        self.rows = {}  # (table, id) -> {field: value}
        # The server's generation (messages.md, Generations): cursors hold within it only.
        self.generation = body["generation"]

    def apply(self, page):
        """messages.md: change sets, then snapshots, then removes, then the cursor."""
        for change_set in page["change_sets"]:
            for change in change_set["changes"]:
                row = self.rows.setdefault((change["table"], change["record"]), {})
                for field in change.get("fields", []):
                    row[field["field"]] = field["value"]
        for snapshot in page["snapshots"]:
            ref = snapshot["ref"]
            row = self.rows.setdefault((ref["table"], ref["record"]), {})
            for field in snapshot["state"]["fields"]:
                row[field["name"]] = field["state"]["value"]
        for ref in page["removes"]:
            self.rows.pop((ref["table"], ref["record"]), None)
        cursor = {"bucket": page["bucket"], "sequence": page["cursor"]}
        if "resume" in page:
            cursor["resume"] = page["resume"]
        self.cursors[page["bucket"]] = cursor

    def pull(self):
        """Pulls until every page is a changes page with nothing more to come."""
        while True:
            kind, body = self.call("/v1/pull", "pull_request", {
                "cursors": list(self.cursors.values()), "records_max": 5000, "replica": self.replica})
            assert kind == "pull_response", kind
            if body["generation"] != self.generation:
                # The server's database was restored: these pages are for other cursors. A client
                # that keeps what it wrote uploads its answered change sets again and re-primes;
                # this one keeps nothing across runs, so it only starts its buckets over.
                self.generation = body["generation"]
                self.cursors = {bucket: {"bucket": bucket, "sequence": 0} for bucket in self.cursors}
                self.rows = {}
                continue
            for page in body["pages"]:
                self.apply(page)
            self.now = max(self.now, int(body["server_clock"].split(".")[0]))
            if all(page["kind"] == "changes" and not page["has_more"] for page in body["pages"]):
                return

    def rows_of(self, table):
        return [(key[1], row) for key, row in self.rows.items() if key[0] == table]


def plain(value):
    return None if value is None or value["kind"] == "null" else value["value"]


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--url", required=True)
    arguments.add_argument("--token", required=True)
    options = arguments.parse_args()
    client = Client(options.url, options.token)
    client.register()
    client.pull()
    me = next(bucket for bucket in client.cursors if bucket.startswith("user:"))[len("user:"):]

    # A visit of mine still to do, its customer, the customer's price list and two priced products.
    visit_id, visit = next((key, row) for key, row in client.rows_of("visits")
                           if plain(row.get("assignee_id")) == me and plain(row.get("status"))["name"] in ("planned", "missed"))
    customer = client.rows[("customers", plain(visit["customer_id"]))]
    price_list = plain(customer["price_list_id"])
    priced = [plain(row["product_id"]) for _, row in client.rows_of("price_list_entries") if plain(row["price_list_id"]) == price_list][:2]
    where = [("latitude_e6", client.value("integer", plain(customer.get("latitude_e6")) or 40750000)),
             ("longitude_e6", client.value("integer", plain(customer.get("longitude_e6")) or -73990000)),
             ("accuracy_m", client.value("integer", 10)), ("provider", client.value("text", "gps")),
             ("mock_location", client.value("bool", False))]
    outcomes = []

    def geo(kind):
        return client.change("geo_events", new_id(client.now), [
            ("visit_id", client.value("id", visit_id)), ("user_id", client.value("id", me)), ("kind", client.value("text", kind)),
            ("device_time", client.value("timestamp", client.now))] + where)

    def status(state):
        return client.change("visits", visit_id, [("status", client.value("state", {"name": state, "epoch": 0}))])

    # Check in: the event and the visit's status, one change set (one local transaction).
    outcomes += client.push([geo("check_in"), status("in_progress")])
    # An order with two lines, then submitted (rules.md: draft -> submitted is the rep's move).
    order = new_id(client.now)
    lines = [client.change("order_lines", new_id(client.now), [
        ("order_id", client.value("id", order)), ("product_id", client.value("id", product)),
        ("quantity", client.value("integer", quantity)), ("discount_bp", client.value("integer", 0))])
        for product, quantity in zip(priced, (3, 1))]
    outcomes += client.push([client.change("sales_orders", order, [
        ("customer_id", client.value("id", plain(visit["customer_id"]))), ("visit_id", client.value("id", visit_id)),
        ("created_by", client.value("id", me)), ("price_list_id", client.value("id", price_list)),
        ("currency", client.value("text", "USD")), ("tax_inclusive", client.value("bool", False)),
        ("order_date", client.value("timestamp", client.now)), ("status", client.value("state", {"name": "draft", "epoch": 0}))])] + lines)
    outcomes += client.push([client.change("sales_orders", order, [("status", client.value("state", {"name": "submitted", "epoch": 0}))])])
    # A payment, by receipt number.
    outcomes += client.push([client.change("payments", new_id(client.now), [
        ("order_id", client.value("id", order)), ("amount_minor", client.value("integer", 1000)), ("method", client.value("text", "cash")),
        ("receipt_number", client.value("text", "PY-" + order[-8:])), ("collected_by", client.value("id", me)),
        ("collected_at", client.value("timestamp", client.now))])])
    # The visit's task done, then check out and complete.
    client.now += 5 * 60_000
    outcomes += client.push([client.change("visit_tasks", new_id(client.now), [
        # (schema.md: `required` is the office's to set, so a rep's own task leaves it out.)
        ("visit_id", client.value("id", visit_id)), ("task_type", client.value("text", "shelf_audit")),
        ("status", client.value("state", {"name": "done", "epoch": 0})),
        ("result", client.value("text", "all facings full"))])])
    outcomes += client.push([geo("check_out"), status("completed")])

    refused = [outcome for outcome in outcomes if outcome["result"] == "rejected"]
    flagged = sorted({finding["rule"] for outcome in outcomes for finding in outcome["findings"]})
    # The server's answer to the order comes back through the feed.
    for _ in range(50):
        client.pull()
        state = plain(client.rows.get(("sales_orders", order), {}).get("status"))
        if state and state["name"] != "submitted":
            break
        time.sleep(0.1)
    final = plain(client.rows[("sales_orders", order)]["status"])["name"]
    total = plain(client.rows[("sales_orders", order)].get("total_minor"))
    print(json.dumps({"changes": len(outcomes), "rejected": refused, "flagged": flagged, "order": final, "total_minor": total,
                      "visit": plain(client.rows[("visits", visit_id)]["status"])["name"]}))
    if refused or final not in ("confirmed", "pending_approval", "credit_hold") or total is None:
        sys.exit(1)


if __name__ == "__main__":
    main()
