import { execFileSync } from "node:child_process";

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
