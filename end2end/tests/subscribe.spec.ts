import { test, expect } from "@playwright/test";

test("a reader subscribes from the footer; a bad address is named at the form", async ({ page }) => {
  await page.goto("/en");
  await page.getByTestId("subscribe-link").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Subscribe to status updates");
  // The browser's own check would stop "a@b"; the server's check is what counts.
  await page.getByLabel("E-mail address").evaluate((el) => el.setAttribute("type", "text"));
  await page.getByLabel("E-mail address").fill("a@b");
  await page.getByRole("button", { name: "Subscribe to status updates" }).click();
  await expect(page.getByTestId("error")).toContainText('email: "a@b" is not an e-mail address');
  await expect(page.getByLabel("E-mail address")).toHaveValue("a@b");
  await page.getByLabel("E-mail address").fill(`reader-${Date.now()}@example.se`);
  await page.getByLabel("Casino").check();
  await page.getByRole("button", { name: "Subscribe to status updates" }).click();
  await expect(page.getByTestId("notice")).toContainText("Check your inbox");
});
