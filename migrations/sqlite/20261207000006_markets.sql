-- Markets: a customer may carry the ISO 3166 country of the licence they
-- play under (customers.csv's optional `market` column), and finance keeps
-- per market which remedies may be paid. Swedish gambling law treats credit
-- to a player's account as a bonus, allowed only at the first gaming
-- occasion (spellagen 14 kap. 9 §), so SE blocks goodwill credit unless
-- finance says otherwise (the default lives in compensation::markets).
ALTER TABLE customers ADD COLUMN market TEXT NOT NULL DEFAULT '';
CREATE TABLE market_remedies (
    market      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    allowed     BIGINT NOT NULL CHECK (allowed IN (0, 1)),
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (market, rule)
);
