import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// The staff sign-in page is public; the console behind it is checked in staff.spec.ts.
const pages = ["/", "/en/incidents/atg-2024-08-24-v75", "/history", "/staff/login"];

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`${colorScheme} mode`, () => {
    test.use({ colorScheme });
    for (const path of pages) {
      test(`axe finds no violations on ${path}`, async ({ page }) => {
        await page.goto(path);
        await expect(page.locator("main#main")).toBeVisible();
        const results = await new AxeBuilder({ page }).analyze();
        const summary = results.violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")})`,
        );
        expect(summary).toEqual([]);
      });
    }
  });
}

test("keyboard: the skip link leads to the content, focus is visible", async ({ page }) => {
  await page.goto("/en/history");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe("none");
});
