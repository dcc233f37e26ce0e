import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { signInAsNew, sql } from "./cli";

// A customer signs in through the mailed link and sees their refund and
// goodwill with their own records; files a claim for a bet the logs
// missed; an agent in another browser sees the evidence and decides; a stake
// the logs do not have waits for a finance member, who approves in a third
// browser; the customer's open page shows the decision by itself; the same
// bet claimed again is answered as already paid.

async function noAxeViolations(page: Page) {
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

/** A demo customer with a refund and a goodwill line in the executed V75 2024 run. */
function refundedCustomer(): string {
  const rows = sql(
    `SELECT c.email FROM customers c
     WHERE EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.customer_id = c.customer_id
                   AND t.run_id = 'atg-2024-08-24-demo' AND t.rule = 'refund_failed_debits')
       AND EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.customer_id = c.customer_id
                   AND t.run_id = 'atg-2024-08-24-demo' AND t.rule = 'goodwill_credit')
     ORDER BY c.customer_id LIMIT 1`,
  );
  expect(rows.length, "a refunded demo customer with goodwill").toBe(1);
  return rows[0][0];
}

/** The newest sign-in link in Plaster's own mailbox for `email`. */
async function mailedLink(email: string): Promise<string> {
  let link = "";
  await expect.poll(() => {
    const rows = sql("SELECT body_text FROM mailbox WHERE recipient = ? ORDER BY id DESC LIMIT 5", email);
    const found = rows.map((r) => r[0].match(/https?:\/\/\S*\/me\/link\?token=[\w-]+/)).find((m) => m);
    link = found ? found[0] : "";
    return link;
  }, { timeout: 20_000 }).not.toBe("");
  return new URL(link).pathname + new URL(link).search;
}

test("a customer signs in by link, claims a missed bet, and sees support's decision live", async ({ browser }) => {
  test.setTimeout(180_000);
  const email = refundedCustomer();
  const customer = await (await browser.newContext({ locale: "en-GB" })).newPage();

  await customer.goto("/en/me");
  await noAxeViolations(customer);
  await customer.getByLabel("E-mail address").fill(email);
  await customer.getByRole("button", { name: "Send link" }).click();
  await expect(customer.getByTestId("notice")).toContainText("If the address belongs to an account");
  await customer.goto(await mailedLink(email));
  await customer.getByTestId("sign-in-button").click();
  await customer.goto("/en/me");
  await expect(customer.locator("html")).toHaveAttribute("data-hydrated", "true");

  // Their refund and goodwill, with their own records and where it stands.
  const incident = customer.getByTestId("my-incident").filter({ hasText: "The stake of bet" }).first();
  await expect(incident).toContainText("The stake of bet");
  await expect(incident).toContainText("Goodwill for being kept from betting in time");
  await expect(incident).toContainText("money taken, bet not registered");
  await expect(incident.getByTestId("stage")).toBeVisible();
  await noAxeViolations(customer);
  await customer.emulateMedia({ colorScheme: "dark" });
  await noAxeViolations(customer);
  await customer.setViewportSize({ width: 360, height: 800 });
  expect(await customer.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await customer.screenshot({ path: "test-results/me-dark-360.png", fullPage: true });
  await customer.emulateMedia({ colorScheme: "light" });
  await customer.screenshot({ path: "test-results/me-light-360.png", fullPage: true });
  await customer.setViewportSize({ width: 1100, height: 900 });

  // A claim for a bet the logs do not have.
  const bet = `e2e-missed-${Date.now()}`;
  const fileClaim = async () => {
    await customer.goto("/en/me");
    await incident.getByRole("link", { name: "File a claim about this incident" }).click();
    await customer.getByLabel("Money taken for a bet that never registered").check();
    await customer.getByLabel("The bet's id (if you have it)").fill(bet);
    await customer.getByLabel("Tell us what happened").fill("The stake left my account at 16:15 but the bet is not in my history.");
    await noAxeViolations(customer);
    await customer.getByRole("button", { name: "Send" }).click();
    await expect(customer.getByTestId("my-claim").first()).toContainText("Received, being checked");
  };
  await fileClaim();

  // An agent, in a browser of their own, sees the evidence and approves.
  const agent = await (await browser.newContext()).newPage();
  await signInAsNew(agent, "agent", "support");
  await agent.goto("/staff/claims");
  await noAxeViolations(agent);
  // The claim just filed on this test's bet, whatever else is in the queue
  // (the demo's claims, other specs').
  const decideOurClaim = async (stake: string, state: string): Promise<string> => {
    const rows = sql("SELECT id FROM claims WHERE bet_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", bet);
    expect(rows.length, `a claim on ${bet}`).toBe(1);
    const claimId = rows[0][0];
    await agent.goto("/staff/claims?kind=missed_bet");
    const row = agent.getByTestId("claims").locator("tr").filter({ hasText: "Money taken" })
      .filter({ has: agent.getByRole("link", { name: claimId, exact: true }) });
    await row.getByRole("link", { name: claimId, exact: true }).click();
    await expect(agent.getByTestId("evidence")).toContainText("failed after debit");
    await agent.getByLabel("Refund the bet under the run's refund rule").check();
    await agent.getByLabel("Stake, only for a bet the logs do not have").fill(stake);
    await agent.getByRole("button", { name: "Decide" }).click();
    await expect(agent.getByTestId("claim-state")).toHaveText(state);
    return claimId;
  };
  const claimId = await decideOurClaim("120", "awaiting finance");
  await noAxeViolations(agent);

  // Finance, in a browser of its own, approves what the agent typed.
  const finance = await (await browser.newContext()).newPage();
  await signInAsNew(finance, "claims-finance", "finance");
  await finance.goto(`/staff/claims/${claimId}`);
  await noAxeViolations(finance);
  await finance.getByTestId("approve-claim").click();
  await expect(finance.getByTestId("claim-state")).toHaveText("approved");

  // The customer's open page shows the decision without a reload.
  await expect(customer.getByTestId("decision").first()).toContainText("You get", { timeout: 20_000 });
  await expect(customer.getByTestId("decision").first()).toContainText("120.00");

  // The same bet claimed again: answered as paid, never paid twice.
  await fileClaim();
  await decideOurClaim("120", "approved");
  await expect(customer.getByTestId("decision").first()).toContainText("Already refunded on", { timeout: 20_000 });
  const paid = sql("SELECT COUNT(*) FROM payouts WHERE lines_json LIKE ?", `%${bet}%`);
  expect(paid[0][0]).toBe("1");
});
