import { test, expect, Browser } from "@playwright/test";
import { addStaff, plaster } from "./cli";
import AxeBuilder from "@axe-core/playwright";



async function publicPage(browser: Browser) {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto("/en");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 15_000 });
  return { context, page };
}

test("a communications user runs an incident and readers see it live", async ({ page, browser }) => {
  const stamp = Date.now();
  const email = `comms-${stamp}@example.se`;
  // This run's own incident: another run or spec may have one with a similar name.
  const title = `Sign-in failures for some users (${stamp})`;
  const oneTime = addStaff(email, "communications");
  const reader = await publicPage(browser);

  // First sign-in: the one-time password leads straight to choosing one's own.
  await page.goto("/staff/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(oneTime);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff\/password$/);
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password (at least 12 characters)").fill("correct horse battery");
  await page.getByLabel("New password again").fill("correct horse battery");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

  // Open an incident: preview first, then publish.
  await page.getByRole("link", { name: "Open an incident" }).first().click();
  // The form staff use under stress is accessible too.
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  await page.getByLabel("Impact").selectOption("major");
  await page.locator("#title_en").fill(title);
  await page.locator("#title_sv").fill("Inloggningen fallerar för vissa");
  await page.locator("#body_en").fill("We are **investigating** failed sign-ins.");
  await page.locator("#body_sv").fill("Vi **undersöker** misslyckade inloggningar.");
  await page.locator("#comp_login").selectOption("partial_outage");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-en")).toContainText("We are investigating failed sign-ins.");
  await expect(page.getByTestId("preview-nb")).toContainText("missing");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page).toHaveURL(/\/staff\/incidents\/[a-z0-9]+\?published=1$/);

  // The open public page shows it without a reload.
  await reader.page.evaluate(() => ((window as any).__notReloaded = true));
  const incidentId = new URL(page.url()).pathname.split("/").pop()!;
  try {
  await expect(reader.page.getByRole("link", { name: title })).toBeVisible();

  // Post an update in two languages.
  await page.getByLabel("Stage").selectOption("identified");
  await page.locator("#body_en").fill(`The cause is a failing certificate (${stamp}); a fix is rolling out.`);
  await page.locator("#body_sv").fill("Orsaken är ett trasigt certifikat; en rättning rullas ut.");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-sv")).toContainText("trasigt certifikat");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByText("Missing translations: nb")).toBeVisible();

  await expect(reader.page.getByText(`The cause is a failing certificate (${stamp})`).first()).toBeVisible();
  expect(await reader.page.evaluate(() => (window as any).__notReloaded)).toBe(true);

  // Close it again so the other specs see a calm page.
  await page.getByLabel("Stage").selectOption("resolved");
  await page.locator("#body_en").fill("Fixed.");
  await page.locator("#comp_login").selectOption("operational");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(reader.page.getByTestId("component").filter({ has: reader.page.locator(".name", { hasText: /^Login$/ }) }))
    .toHaveAttribute("data-status", "operational");
  } finally {
    // Whatever happened above, leave a calm page for the other specs.
    plaster(["incident", "update", incidentId, "--stage", "resolved", "--body", "en=Closed by the test.", "--component", "login=operational"]);
    await reader.context.close();
  }
});

test("a support user cannot reach incident management", async ({ page }) => {
  const email = `support-${Date.now()}@example.se`;
  const oneTime = addStaff(email, "support");
  await page.goto("/staff/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(oneTime);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password (at least 12 characters)").fill("another good password");
  await page.getByLabel("New password again").fill("another good password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("link", { name: "Incidents" })).toHaveCount(0);
  const response = await page.goto("/staff/incidents");
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId("error")).toContainText("roles do not allow");
});
