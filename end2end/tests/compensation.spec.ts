import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { signInAsNew } from "./cli";

// Finance drafts a run from an incident, uploads its logs, previews it and
// looks at the charts; a second finance member approves the digest they saw.

async function noAxeViolations(page: Page) {
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

/** Bet records in the window of the demo's 24 August 2024 incident. */
function betLog(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const customer = `s-${String(i % 40).padStart(7, "0")}`;
    const outcome = i % 3 === 0 ? "failed_after_debit" : "rejected";
    lines.push(JSON.stringify({
      ts: `2024-08-24T16:${String(10 + (i % 40)).padStart(2, "0")}:00+02:00`, kind: "bet", customer_id: customer,
      outcome, bet_id: `e2e-${i}`, game: "V75", round_id: "2024-08-24-V75", stake_minor: 1000 * (1 + (i % 7)), currency: "SEK",
    }));
  }
  lines.push("not json at all");
  return Buffer.from(lines.join("\n") + "\n");
}

test("a run is drafted from its incident, previewed with charts, and approved by a second finance member", async ({ browser }) => {
  test.setTimeout(120_000);
  // Two people, two contexts (axe needs pages made from a context).
  const drafter = await (await browser.newContext()).newPage();
  await signInAsNew(drafter, "drafter", "finance");
  await drafter.getByRole("link", { name: "Compensation" }).click();
  await expect(drafter.getByRole("heading", { name: "Compensation" })).toBeVisible();
  await drafter.getByLabel("Incident").selectOption("atg-2024-08-24-v75");
  await drafter.getByRole("button", { name: "Draft a plan for it" }).click();

  // Prefilled from the incident; a bad time is named at its field.
  await expect(drafter.getByLabel("Started at (RFC 3339, with offset)")).toHaveValue("2024-08-24T14:06:00Z");
  const id = `e2e-${Date.now()}`;
  await drafter.getByLabel("Plan id (names the run: a–z, 0–9 and -)").fill(id);
  await drafter.getByLabel("Resolved at (RFC 3339, with offset)").fill("2024-08-24 20:41");
  await drafter.getByRole("button", { name: "Create the draft run" }).click();
  await expect(drafter.locator("#resolved_at-error")).toContainText("resolved_at");
  await noAxeViolations(drafter);
  await drafter.getByLabel("Resolved at (RFC 3339, with offset)").fill("2024-08-24T20:41:00+02:00");
  await drafter.getByRole("button", { name: "Create the draft run" }).click();
  await expect(drafter.getByTestId("run-state")).toHaveText("draft");

  // A file that lies about being gzip is refused; the real one is stored.
  const files = drafter.getByLabel(/Add event log files/);
  await files.setInputFiles({ name: "bets.jsonl.gz", mimeType: "application/gzip", buffer: betLog(3) });
  await drafter.getByRole("button", { name: "Add the files" }).click();
  await expect(drafter.getByTestId("error")).toContainText("bets.jsonl.gz: not gzip");
  await drafter.getByLabel(/Add event log files/).setInputFiles({ name: "bets.jsonl", mimeType: "application/x-ndjson", buffer: betLog(120) });
  await drafter.getByRole("button", { name: "Add the files" }).click();
  await expect(drafter.getByTestId("logs")).toContainText("bets.jsonl");

  await drafter.getByRole("button", { name: "Preview" }).click();
  await expect(drafter.getByTestId("run-state")).toHaveText("previewed", { timeout: 30_000 });
  await expect(drafter.getByTestId("figures")).toContainText("Malformed");
  await expect(drafter.getByTestId("chart").first().locator("svg[role=img]")).toBeVisible();
  await expect(drafter.getByTestId("malformed")).toContainText("bets.jsonl");
  await noAxeViolations(drafter);
  await drafter.emulateMedia({ colorScheme: "dark" });
  await noAxeViolations(drafter);
  await drafter.screenshot({ path: "test-results/compensation-run-dark.png", fullPage: true });
  const digest = (await drafter.getByTestId("digest").textContent())?.trim() ?? "";
  expect(digest).toMatch(/^[0-9a-f]{64}$/);

  // The drafter may not approve; a second finance member approves what they saw.
  await drafter.goto(`/staff/compensation/runs/${id}/approve`);
  await expect(drafter.getByTestId("barred")).toContainText("You drafted this run");
  const approver = await (await browser.newContext()).newPage();
  await signInAsNew(approver, "approver", "finance");
  await approver.goto(`/staff/compensation/runs/${id}/approve`);
  await expect(approver.getByTestId("digest")).toHaveText(digest);
  await noAxeViolations(approver);
  await approver.getByRole("button", { name: "Approve revision 1" }).click();
  await expect(approver.getByTestId("run-state")).toHaveText("approved");
  await expect(approver.getByTestId("approved-by")).toContainText("approver-");
  await expect(approver.getByTestId("history")).toContainText("approve");

  // Finance executes it and watches it post; the run's ledger and payouts follow.
  approver.once("dialog", (d) => d.accept());
  await approver.getByRole("button", { name: "Execute: post and pay out" }).click();
  await expect(approver.getByTestId("execution")).toBeVisible();
  await expect(approver.getByTestId("run-state")).toHaveText("executed", { timeout: 30_000 });
  await expect(approver.getByTestId("execution")).toContainText("posted");
  await noAxeViolations(approver);
  await approver.getByTestId("ledger-link").click();
  await expect(approver.getByTestId("ledger-totals")).toContainText("line");
  await expect(approver.getByTestId("payout-counts")).toBeVisible({ timeout: 15_000 });
  await noAxeViolations(approver);

  // The trial balance balances in every currency.
  await approver.getByRole("link", { name: "Ledger", exact: true }).click();
  await expect(approver.getByTestId("trial-balance")).toContainText("customer:");
  // Customers' accounts are added up per currency, not listed one by one.
  await expect(approver.getByTestId("customer-accounts").first()).toContainText(/customer:… \(\d+ accounts?\)/);
  for (const cell of await approver.getByTestId("balanced").all()) await expect(cell).toHaveText("yes");
  await noAxeViolations(approver);
  await approver.emulateMedia({ colorScheme: "dark" });
  await noAxeViolations(approver);
  await approver.screenshot({ path: "test-results/ledger-dark.png", fullPage: true });

  // The demo's corrected V75 2023 run has discrepancies: one member asks for
  // an adjustment, the other approves it.
  await approver.goto("/staff/compensation/runs/atg-2023-09-16/ledger");
  const first = approver.getByTestId("discrepancy").filter({ hasText: "Ask for an adjustment" }).first();
  await expect(first).toContainText("30.00 SEK");
  const customer = (await first.locator("td").nth(1).textContent())?.trim() ?? "";
  await first.getByRole("button", { name: /Ask for an adjustment/ }).click();
  const row = approver.getByTestId("discrepancy").filter({ hasText: customer });
  await expect(row).toContainText("Another finance member approves it");
  await noAxeViolations(approver);
  await drafter.goto("/staff/compensation/runs/atg-2023-09-16/ledger");
  drafter.once("dialog", (d) => d.accept());
  await drafter.getByTestId("discrepancy").filter({ hasText: customer }).getByRole("button", { name: "Approve the adjustment" }).click();
  await expect(drafter.getByTestId("discrepancy").filter({ hasText: customer })).toContainText("Settled by adjustment");
});
