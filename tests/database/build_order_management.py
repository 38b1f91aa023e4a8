"""Builds a realistic order_management.db (the plan's SQLite database) for tests/database.rs.

Usage: python3 build_order_management.py PATH

Customers, orders, order items and shipments with foreign keys, indexes, NULLs, timestamps, money as
NUMERIC, and non-ASCII text; several thousand rows, the same on every run (a seeded generator).
"""

import random
import sqlite3
import sys
from datetime import datetime, timedelta

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    phone TEXT,
    loyalty_points INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    total NUMERIC(10, 2) NOT NULL,
    notes TEXT,
    placed_at TIMESTAMP NOT NULL,
    cancelled_at TIMESTAMP
);
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX orders_status_placed_at ON orders (status, placed_at);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price NUMERIC(10, 2) NOT NULL
);
CREATE INDEX order_items_order_id ON order_items (order_id);
CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    carrier TEXT NOT NULL,
    tracking_number TEXT UNIQUE,
    shipped_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX shipments_order_id ON shipments (order_id);
"""

NAMES = ["Zoë Ångström", "José Núñez", "Søren Kierkegård", "李小龍", "Ольга Петрова", "Łukasz Żółw",
         "Ana O'Brien", "François \"Frank\" Müller", "Ἀριστοτέλης", "Émilie Dupré 🚀", "plain ascii", "Nguyễn Văn A"]
PRODUCTS = ["Café crème 1 kg", "Schlüsselanhänger", "Tシャツ (M)", "Crème brûlée set", "USB‑C cable ⚡",
            "Smörgåsbord plate", "Niño's toy; \"deluxe\"", "Plain widget"]


def main(path):
    rng = random.Random(11)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    start = datetime(2023, 1, 1, 8, 0, 0)
    ts = lambda d: d.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    customers = 1200
    for c in range(1, customers + 1):
        name = "%s %d" % (rng.choice(NAMES), c)
        phone = None if rng.random() < 0.3 else "+49 30 %07d" % rng.randrange(10**7)
        db.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                   (c, "customer%d@exämple.com" % c, name, phone, rng.randrange(5000),
                    ts(start + timedelta(minutes=rng.randrange(500000)))))
    item, shipment = 0, 0
    for o in range(1, 3501):
        placed = start + timedelta(minutes=rng.randrange(900000))
        status = rng.choice(["pending", "paid", "shipped", "delivered", "cancelled"])
        lines = []
        for _ in range(rng.randint(1, 4)):
            item += 1
            lines.append((item, o, "SKU-%05d" % rng.randrange(10**5), rng.choice(PRODUCTS),
                          rng.randint(1, 5), "%d.%02d" % (rng.randrange(1, 300), rng.randrange(100))))
        total = sum(q * float(p) for (_, _, _, _, q, p) in lines)
        notes = None if rng.random() < 0.6 else rng.choice(["Bitte klingeln ☎", "leave at door", "fragile — glass"])
        cancelled = ts(placed + timedelta(hours=rng.randrange(1, 48))) if status == "cancelled" else None
        db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (o, rng.randrange(1, customers + 1), status, "%.2f" % total, notes, ts(placed), cancelled))
        db.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?)", lines)
        if status in ("shipped", "delivered"):
            shipment += 1
            shipped = placed + timedelta(hours=rng.randrange(2, 72))
            delivered = ts(shipped + timedelta(days=rng.randrange(1, 6))) if status == "delivered" else None
            tracking = None if rng.random() < 0.1 else "TRK%09d" % shipment
            db.execute("INSERT INTO shipments VALUES (?, ?, ?, ?, ?, ?)",
                       (shipment, o, rng.choice(["DHL", "UPS", "La Poste", "Correos"]), tracking, ts(shipped), delivered))
    db.commit()
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


if __name__ == "__main__":
    main(sys.argv[1])
