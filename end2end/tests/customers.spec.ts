import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { signInAsNew } from "./cli";

// Finance keeps the customer table that compensation runs read: an import
// from the page, a refused file with its bad rows listed, a customer found.

const customers = (suffix: string, extra = "") =>
  Buffer.from(
    "customer_id,email,name,locale,currency\n" +
      `e2e-${suffix}-1,anna.${suffix}@example.se,Anna E2E,sv,SEK\n` +
      `e2e-${suffix}-2,ola.${suffix}@example.no,"Nordmann, Ola",nb,NOK\n` +
      extra,
  );

async function noAxeViolations(page: import("@playwright/test").Page) {
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

test("finance imports customers, sees a bad file refused row by row, and finds a customer", async ({ page }) => {
  await signInAsNew(page, "finance", "finance");
  await page.getByRole("link", { name: "Customers" }).click();
  await expect(page.getByTestId("customer-counts")).toContainText("customers");
  const suffix = `${Date.now()}`;

  await page.getByLabel("Customers (CSV)").setInputFiles({ name: "customers.csv", mimeType: "text/csv", buffer: customers(suffix) });
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("imported")).toHaveText("Imported 2 customers and 0 subscriptions.");

  const bad = customers(`${suffix}b`, `e2e-${suffix}b-3,not-an-address,X,sv,SEK\ne2e-${suffix}b-4,y@example.se,Y,sv,kronor\n`);
  await page.getByLabel("Customers (CSV)").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: bad });
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByTestId("error")).toHaveText("2 bad rows refused: nothing was imported");
  await expect(page.getByTestId("bad-row")).toHaveCount(2);
  await expect(page.getByTestId("bad-row").first()).toContainText("is not an e-mail address");
  await noAxeViolations(page);

  await page.getByLabel("Customer id or e-mail").fill(`ola.${suffix}@example.no`);
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page.getByTestId("customer")).toContainText("Nordmann, Ola");
  await noAxeViolations(page);
  await page.emulateMedia({ colorScheme: "dark" });
  await noAxeViolations(page);
});
