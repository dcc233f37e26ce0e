import { test, expect } from "@playwright/test";

// `/` follows the browser's Accept-Language; Playwright's default is en-US.
test.describe("a Swedish browser", () => {
  test.use({ locale: "sv-SE" });
  test("the front page shows the demo components", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Driftstatus");
    const components = page.getByTestId("component");
    for (const name of ["Inloggning", "Spelinlämning", "Kasino", "Sumo direktsändning"]) {
      await expect(components.locator(".name").getByText(name, { exact: true })).toBeVisible();
    }
    await expect(components).toHaveCount(8);
    await expect(page.getByTestId("overall")).toContainText("Alla system fungerar");
  });
});

test("the page hydrates: folding a group works in the browser", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/en");
  const group = page.getByTestId("component-group").filter({ hasText: "Betting" });
  const toggle = group.getByRole("button", { name: "Hide" });
  const list = group.locator("ul.component-list");
  await expect(list).toBeVisible();
  // Clicking does nothing until the wasm bundle has hydrated the page, so
  // retry the click until the list folds.
  await expect(async () => {
    if (await list.isVisible()) await toggle.click();
    await expect(list).toBeHidden({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(group.getByRole("button", { name: "Show" })).toHaveAttribute("aria-expanded", "false");
  await group.getByRole("button", { name: "Show" }).click();
  await expect(list).toBeVisible();
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("the status page is readable", async ({ page }) => {
    await page.goto("/nb");
    await expect(page.locator("[data-testid=component] .name").getByText("Innlogging", { exact: true })).toBeVisible();
    await expect(page.getByText("Spillstopp før V75 med drømmejackpot")).toBeVisible();
  });
});
