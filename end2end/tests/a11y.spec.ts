import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { setStatus } from "./cli";

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

// axe passed a banner whose text had the banner's own colour (a one-class
// label colour outranked the banner's), so the banner's contrast is measured
// here directly, in the browser, for every state the page can be in.

/** WCAG 2 contrast of the element's text against its own background. */
async function bannerContrast(page: import("@playwright/test").Page): Promise<number> {
  return page.getByTestId("overall").evaluate((el) => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const lin = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const style = getComputedStyle(el);
    const [a, b] = [luminance(rgb(style.color)), luminance(rgb(style.backgroundColor))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

test.describe("the overall banner is readable in every state", () => {
  test.describe.configure({ mode: "serial" });
  test.afterAll(() => setStatus("casino", "operational"));
  const states = ["degraded_performance", "partial_outage", "major_outage", "under_maintenance", "operational"];
  for (const state of states) {
    test(`banner text contrast when the page is ${state}`, async ({ browser }) => {
      setStatus("casino", state);
      for (const colorScheme of ["light", "dark"] as const) {
        const context = await browser.newContext({ colorScheme });
        const page = await context.newPage();
        // The server learns of a command-line write by itself, within its
        // change poll; a page fetched before that is rightly the old state.
        await expect(async () => {
          await page.goto("/en");
          await expect(page.getByTestId("overall")).toHaveClass(new RegExp(`status-${state}`), { timeout: 1_000 });
        }).toPass({ timeout: 15_000 });
        const ratio = await bannerContrast(page);
        expect(ratio, `${colorScheme} mode, ${state}: contrast ${ratio.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
        await context.close();
      }
    });
  }
});
