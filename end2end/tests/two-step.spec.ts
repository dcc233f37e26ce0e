import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { addStaff, firstSignIn, setUpTwoStep, totp } from "./cli";

async function axe(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`an admin sets up two-step sign-in, signs in with a code and confirms before adding an account (${colorScheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    const email = `twostep-${colorScheme}-${Date.now()}@example.se`;
    const oneTime = addStaff(email, "admin");
    const password = "two steps are better than one";
    await firstSignIn(page, email, oneTime, password);
    // Admins meet the set-up page before anything else.
    await expect(page).toHaveURL(/\/staff\/two-factor$/);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: `test-results/two-step-setup-${colorScheme}.png`, fullPage: true });
    const secret = await setUpTwoStep(page);
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

    // Signing in again: the password, then the code page.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.goto("/staff/login");
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/staff\/login\/code/);
    expect(await axe(page)).toEqual([]);
    // The code that turned it on was used; the app's next one is taken.
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("error")).toContainText("not right");
    await page.getByLabel("Code").fill(totp(secret, Date.now() + 30_000));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

    // Adding an account asks who it is first.
    await page.goto("/staff/accounts");
    await expect(page.getByTestId("step-up")).toBeVisible();
    expect(await axe(page)).toEqual([]);
    await page.getByLabel("Your password or code").fill(password);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByTestId("confirmed")).toBeVisible();
    await page.locator("#new-email").fill(`added-${colorScheme}-${Date.now()}@example.se`);
    await page.getByLabel("Support").first().check();
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByTestId("created")).toContainText("went to that address by e-mail");
  });
}
