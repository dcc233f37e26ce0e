import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
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
  await firstSignIn(page, email, oneTime, `${name} chose this password`);
  if (roles.includes("admin") || roles.includes("finance")) await setUpTwoStep(page);
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  return email;
}

/** The first sign-in with a one-time password, through choosing `password`. */
export async function firstSignIn(page: Page, email: string, oneTime: string, password: string): Promise<void> {
  await page.goto("/staff/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(oneTime);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password (at least 12 characters)").fill(password);
  await page.getByLabel("New password again").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
}

/** On the two-step page that admins and finance meet first: reads the key as a person would type it into an app, confirms with the app's code, and goes on. */
export async function setUpTwoStep(page: Page): Promise<string> {
  await expect(page).toHaveURL(/\/staff\/two-factor$/);
  await expect(page.getByTestId("qr").locator("svg")).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").innerText()).replace(/\s+/g, "");
  await page.getByLabel("Code").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);
  await page.getByRole("link", { name: "Continue to the console" }).click();
  return secret;
}

/** RFC 6238: HMAC-SHA1 over the 30-second step, six digits, as authenticator apps compute it. */
export function totp(base32: string, at: number = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of base32.toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(step).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return bin.toString().padStart(6, "0");
}

/** Rows of a query on the server's SQLite database (through Python's sqlite3). */
export function sql(query: string, ...params: string[]): string[][] {
  const db = (process.env.PLASTER_E2E_DATABASE_URL ?? "").replace(/^sqlite:\/\//, "");
  const script = "import json,sqlite3,sys\n" +
    "c=sqlite3.connect(sys.argv[1], timeout=10)\n" +
    "print(json.dumps([[str(v) for v in r] for r in c.execute(sys.argv[2], sys.argv[3:]).fetchall()]))";
  return JSON.parse(execFileSync("python3", ["-c", script, db, query, ...params]).toString());
}
