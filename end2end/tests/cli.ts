import { execFileSync } from "node:child_process";
import { expect, Page } from "@playwright/test";

// Real writes through the `plaster` command line, against the database the
// server under test uses (scripts/e2e.sh exports both); the server learns of
// them by itself.
export function plaster(args: string[]): string {
  const bin = process.env.PLASTER_E2E_BIN;
  const db = process.env.PLASTER_E2E_DATABASE_URL;
  if (!bin || !db) throw new Error("run through scripts/e2e.sh: PLASTER_E2E_BIN and PLASTER_E2E_DATABASE_URL are unset");
  return execFileSync(bin, args, {
    env: { ...process.env, DATABASE_URL: db, RUST_LOG: "warn" },
    stdio: "pipe",
  }).toString();
}

export function setStatus(component: string, status: string): void {
  plaster(["component", "set-status", component, status]);
}

/** A new staff account with `roles`; returns its one-time password. */
export function addStaff(email: string, ...roles: string[]): string {
  const out = plaster(["staff", "add", "--email", email, ...roles.flatMap((r) => ["--role", r])]);
  const m = out.match(/one-time password, shown only now: (\S+)/);
  if (!m) throw new Error(`no password in: ${out}`);
  return m[1];
}

/** Signs `page` in as a new staff member with `roles`, through the first password change. */
export async function signInAsNew(page: Page, name: string, ...roles: string[]): Promise<string> {
  const email = `${name}-${Date.now()}@example.se`;
  const oneTime = addStaff(email, ...roles);
  const password = `${name} chose this password`;
  await page.goto("/staff/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(oneTime);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password (at least 12 characters)").fill(password);
  await page.getByLabel("New password again").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  return email;
}

/** Rows of a query on the server's SQLite database (through Python's sqlite3). */
export function sql(query: string, ...params: string[]): string[][] {
  const db = (process.env.PLASTER_E2E_DATABASE_URL ?? "").replace(/^sqlite:\/\//, "");
  const script = "import json,sqlite3,sys\n" +
    "c=sqlite3.connect(sys.argv[1], timeout=10)\n" +
    "print(json.dumps([[str(v) for v in r] for r in c.execute(sys.argv[2], sys.argv[3:]).fetchall()]))";
  return JSON.parse(execFileSync("python3", ["-c", script, db, query, ...params]).toString());
}
