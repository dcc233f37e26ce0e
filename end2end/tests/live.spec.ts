import { test, expect, Page } from "@playwright/test";
import { setStatus } from "./cli";


async function casino(page: Page) {
  return page.getByTestId("component").filter({ has: page.locator(".name", { hasText: /^Casino$/ }) });
}

/** Waits until the wasm bundle has hydrated the page (the group toggle works then). */
async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 15_000 });
}

test.afterEach(() => setStatus("casino", "operational"));

test("an open page shows a change without reloading", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/en");
  await hydrated(page);
  const row = await casino(page);
  await expect(row).toHaveAttribute("data-status", "operational");
  // Marks this document: a reload would lose it.
  await page.evaluate(() => ((window as any).__notReloaded = true));

  setStatus("casino", "major_outage");
  await expect(row).toHaveAttribute("data-status", "major_outage");
  await expect(row).toContainText("Major outage");
  await expect(page.getByTestId("overall")).not.toContainText("All systems operational");

  setStatus("casino", "operational");
  await expect(row).toHaveAttribute("data-status", "operational");
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
  expect(errors).toEqual([]);
});

test("without the event stream the page polls and still updates", async ({ page }) => {
  // A proxy that refuses the stream: the browser's EventSource gives up.
  let refused = 0;
  await page.route("**/api/live", (route) => {
    refused += 1;
    return route.fulfill({ status: 503, body: "no streams here" });
  });
  await page.goto("/en");
  await hydrated(page);
  const row = await casino(page);
  await expect(row).toHaveAttribute("data-status", "operational");
  await page.evaluate(() => ((window as any).__notReloaded = true));

  setStatus("casino", "partial_outage");
  // Polling runs every 5 s.
  await expect(row).toHaveAttribute("data-status", "partial_outage", { timeout: 15_000 });
  expect(refused).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
});
