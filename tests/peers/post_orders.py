"""A shop's order feed, with Python's standard library only: posts ORDERS orders in batches of
BATCH to floorctl's HTTP API and, like any careful client, sends a batch again, unchanged, when
the controller does not answer (it is idempotent by order number). Every fourth batch carries one
order with a quantity of 0, which must be refused as a whole. Writes each order's final answer
(its HTTP status) as JSON to OUT. It pauses PAUSE seconds between batches.

usage: post_orders.py URL TOKEN ORDERS BATCH PAUSE OUT
"""

import json
import sys
import time
import urllib.error
import urllib.request

url, token, total, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pause, out = float(sys.argv[5]), sys.argv[6]


def order(n, bad):
    return {
        "order": "SHOP-%04d" % n,
        "cutoff": "11:00",
        "lines": [{"sku": "SKU%04d" % (n % 144), "qty": 0 if bad else 1 + n % 2,
                   "location": "A%02d-%02d" % (n % 12 + 1, n // 12 % 12 + 1)}],
    }


answers = {}
tries = 0
for first in range(0, total, batch):
    numbers = range(first, min(first + batch, total))
    bad_one = first // batch % 4 == 3
    body = json.dumps({"orders": [order(n, bad_one and n == first) for n in numbers]}).encode()
    while True:
        tries += 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.2)
            continue
        if status in (429, 503):
            time.sleep(0.5)
            continue
        break
    for n in numbers:
        answers["SHOP-%04d" % n] = status
    time.sleep(pause)

with open(out, "w") as f:
    json.dump({"answers": answers, "requests": tries}, f)
