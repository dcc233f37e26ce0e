#!/usr/bin/env python3
"""The compensation report of spec §4 computed with DuckDB SQL, for the benchmark.

Same inputs as `plaster compensation preview`; prints the same JSON shape (without
malformed_examples: SQL has no line numbers to give). Implements the rules the
benchmark plan uses: refund_failed_debits, goodwill_credit, jackpot_topup.

usage: duckdb_report.py --plan PLAN.toml --customers customers.csv EVENTS...
"""
import argparse
import json
import sys
import tomllib

import duckdb

TS_RE = r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$"
COLS = ["ts", "kind", "customer_id", "outcome", "bet_id", "game", "stake_minor", "currency"]


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", required=True)
    ap.add_argument("--customers", required=True)
    ap.add_argument("events", nargs="+")
    a = ap.parse_args()
    with open(a.plan, "rb") as f:
        plan = tomllib.load(f)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET TimeZone = 'UTC'")

    jsonl = [e for e in a.events if ".jsonl" in e or ".ndjson" in e]
    csvs = [e for e in a.events if ".csv" in e]
    cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLS) + "}"
    parts = []
    if jsonl:
        parts.append(
            f"SELECT {', '.join(COLS)} FROM read_json([{', '.join(map(q, jsonl))}], "
            f"format='newline_delimited', columns={cols}, ignore_errors=true)"
        )
    if csvs:
        parts.append(
            f"SELECT {', '.join(COLS)} FROM read_csv([{', '.join(map(q, csvs))}], header=true, "
            f"all_varchar=true, ignore_errors=true, union_by_name=true)"
        )
    src = " UNION ALL ".join(parts)
    valid = f"""
        regexp_matches(ts, '{TS_RE}')
        AND length(customer_id) BETWEEN 1 AND 64
        AND ((kind IN ('login', 'stream') AND outcome IN ('success', 'failure'))
          OR (kind = 'bet' AND outcome IN ('placed', 'rejected', 'failed_after_debit')
              AND bet_id IS NOT NULL AND game IS NOT NULL
              AND regexp_matches(stake_minor, '^[0-9]+$')
              AND regexp_matches(currency, '^[A-Z]{{3}}$')))
    """
    con.execute(f"""
        CREATE TEMP TABLE ev AS
        SELECT CAST(ts AS TIMESTAMPTZ) AS t, kind, customer_id, outcome, bet_id, game,
               CAST(stake_minor AS BIGINT) AS stake, currency
        FROM ({src}) WHERE {valid}
    """)
    started, resolved = plan["started_at"], plan["resolved_at"]
    S, R = f"TIMESTAMPTZ {q(started)}", f"TIMESTAMPTZ {q(resolved)}"
    comps = set(plan["components"])
    records, in_window = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE t >= {S} AND t < {R}) FROM ev"
    ).fetchone()
    con.execute(f"""
        CREATE TEMP TABLE bets AS
        SELECT bet_id, arg_max(customer_id, k) AS customer_id, arg_max(outcome, k) AS outcome,
               arg_max(game, k) AS game, arg_max(stake, k) AS stake,
               arg_max(currency, k) AS currency, max(t) AS t
        FROM (SELECT *, struct_pack(t := t, p := CASE outcome WHEN 'placed' THEN 2
                  WHEN 'failed_after_debit' THEN 1 ELSE 0 END) AS k
              FROM ev WHERE kind = 'bet' AND t >= {S})
        GROUP BY bet_id
    """)
    access_kinds = [k for k, c in (("login", "login"), ("stream", "streaming")) if c in comps]
    access_filter = (
        f"kind IN ({', '.join(map(q, access_kinds))}) AND outcome = 'failure'" if access_kinds else "false"
    )
    bet_fail = "outcome IN ('rejected', 'failed_after_debit')" if "betting" in comps else "false"
    con.execute(f"CREATE TEMP TABLE cust AS SELECT customer_id, currency FROM read_csv({q(a.customers)}, header=true, all_varchar=true)")
    affected = con.execute(f"""
        WITH a AS (
          SELECT customer_id FROM ev WHERE {access_filter} AND t >= {S} AND t < {R}
          UNION SELECT customer_id FROM bets WHERE {bet_fail} AND t >= {S} AND t < {R})
        SELECT count(*) FILTER (WHERE c.customer_id IS NOT NULL),
               count(*) FILTER (WHERE c.customer_id IS NULL)
        FROM a LEFT JOIN cust c USING (customer_id)
    """).fetchone()

    def games_filter(rule):
        g = rule.get("games") or []
        return f"game IN ({', '.join(map(q, g))})" if g else "true"

    rules, grand = [], {}
    for rule in plan.get("rules", []):
        kind = rule["kind"]
        rep = {"kind": kind, "lines": 0, "customers": 0, "total_minor": {},
               "skipped": {"unknown_customer": 0, "no_amount_for_currency": 0}}
        if kind == "refund_failed_debits":
            rows = con.execute(f"""
                SELECT c.customer_id IS NULL AS unknown, b.currency, count(*), sum(b.stake),
                       count(DISTINCT b.customer_id)
                FROM bets b LEFT JOIN cust c USING (customer_id)
                WHERE b.outcome = 'failed_after_debit' AND b.t >= {S} AND b.t < {R} AND {games_filter(rule)}
                GROUP BY ALL
            """).fetchall()
            custs = con.execute(f"""
                SELECT count(DISTINCT b.customer_id) FROM bets b JOIN cust c USING (customer_id)
                WHERE b.outcome = 'failed_after_debit' AND b.t >= {S} AND b.t < {R} AND {games_filter(rule)}
            """).fetchone()[0]
            for unknown, cur, n, total, _ in rows:
                if unknown:
                    rep["skipped"]["unknown_customer"] += n
                else:
                    rep["lines"] += n
                    rep["total_minor"][cur] = rep["total_minor"].get(cur, 0) + int(total)
            rep["customers"] = custs
        elif kind == "goodwill_credit":
            deadline = rule.get("deadline", resolved)
            D = f"TIMESTAMPTZ {q(deadline)}"
            E = f"least({R}, {D})"
            amounts = "(" + " UNION ALL ".join(
                f"SELECT {q(c)} AS currency, {int(v)} AS amount" for c, v in rule["amount_minor"].items()
            ) + ")"
            rows = con.execute(f"""
                WITH f AS (
                  SELECT customer_id, min(t) AS first FROM (
                    SELECT customer_id, t FROM ev WHERE {access_filter} AND t >= {S} AND t < {E}
                    UNION ALL
                    SELECT customer_id, t FROM bets WHERE {bet_fail} AND {games_filter(rule)}
                      AND t >= {S} AND t < {E})
                  GROUP BY customer_id),
                p AS (SELECT customer_id, max(t) AS last FROM bets
                      WHERE outcome = 'placed' AND {games_filter(rule)} AND t < {D} GROUP BY customer_id),
                el AS (SELECT f.customer_id FROM f LEFT JOIN p USING (customer_id)
                       WHERE p.last IS NULL OR p.last < f.first)
                SELECT c.customer_id IS NULL AS unknown, am.amount IS NULL AS no_amount,
                       c.currency, count(*), sum(am.amount)
                FROM el LEFT JOIN cust c USING (customer_id) LEFT JOIN {amounts} am ON am.currency = c.currency
                GROUP BY ALL
            """).fetchall()
            for unknown, no_amount, cur, n, total in rows:
                if unknown:
                    rep["skipped"]["unknown_customer"] += n
                elif no_amount:
                    rep["skipped"]["no_amount_for_currency"] += n
                else:
                    rep["lines"] += n
                    rep["customers"] += n
                    rep["total_minor"][cur] = rep["total_minor"].get(cur, 0) + int(total)
        elif kind == "jackpot_topup":
            top = rule["target_minor"] - rule["current_minor"]
            if top > 0:
                rep["lines"] = 1
                rep["total_minor"][rule["currency"]] = top
        else:
            sys.exit(f"rule kind {kind} is not implemented in the DuckDB reference")
        rep["total_minor"] = dict(sorted(rep["total_minor"].items()))
        for cur, v in rep["total_minor"].items():
            grand[cur] = grand.get(cur, 0) + v
        rules.append(rep)
    report = {
        "plan": plan["id"],
        "events": {"records": records, "in_window": in_window},
        "affected_customers": affected[0],
        "unknown_customers": affected[1],
        "rules": rules,
        "total_minor": dict(sorted(grand.items())),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
