-- The operator's customers and their subscriptions (compensation.md §2),
-- imported from customers.csv and subscriptions.csv by finance. Runs read
-- them as they are when a preview starts; customers sign in with the e-mail.
CREATE TABLE customers (
    customer_id  TEXT PRIMARY KEY,
    -- Lower-cased when imported, so sign-in by e-mail is one index lookup.
    email        TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- A BCP 47 tag as given (sv, nb, en, ...).
    locale       TEXT NOT NULL,
    -- The account's ISO 4217 currency.
    currency     TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (email);

-- One row per customer and plan; each active one counts on its own. No
-- foreign key: as in the engine, billing may know a subscription whose
-- customer is not (yet) in the customer file; it pays nothing until it is.
CREATE TABLE customer_subscriptions (
    customer_id        TEXT NOT NULL,
    plan               TEXT NOT NULL,
    monthly_fee_minor  BIGINT NOT NULL CHECK (monthly_fee_minor >= 0),
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (customer_id, plan)
);
