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

test("a live change keeps what the reader did: a folded group, the announced banner, working toggles", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/en");
  await hydrated(page);
  const betting = page.getByTestId("component-group").filter({ hasText: "Betting" });
  const list = betting.locator("ul.component-list");
  await betting.getByRole("button", { name: "Hide" }).click();
  await expect(list).toBeHidden();
  // The banner is an aria-live region: a new element would not be announced.
  await page.evaluate(() => ((document.querySelector("[data-testid=overall]") as any).__same = true));
  const row = await casino(page);

  setStatus("casino", "major_outage");
  await expect(row).toHaveAttribute("data-status", "major_outage");
  await expect(page.getByTestId("overall")).not.toContainText("All systems operational");
  expect(await page.evaluate(() => (document.querySelector("[data-testid=overall]") as any).__same)).toBe(true);
  // Still folded, and the new content's toggle is hydrated.
  await expect(list).toBeHidden();
  await betting.getByRole("button", { name: "Show" }).click();
  await expect(list).toBeVisible();
  await expect(betting.getByRole("button", { name: "Hide" })).toHaveAttribute("aria-expanded", "true");
  expect(errors).toEqual([]);
});

test("a customer's page polls, and leaves a half-typed form alone when nothing changed", async ({ page }) => {
  await page.goto("/en/me");
  await hydrated(page);
  await page.getByLabel("E-mail address").fill("half-typed@exa");
  const isPoll = (url: string, type: string) => new URL(url).pathname === "/en/me" && type === "fetch";
  // The page asks again every 5 s; wait for one answer after the typing...
  await page.waitForResponse((r) => isPoll(r.url(), r.request().resourceType()), { timeout: 15_000 });
  // ...and for the question after it: the page handles an answer completely
  // before it asks again, so by then that answer was applied (or, being
  // unchanged, left alone). No fixed wait.
  await page.waitForRequest((r) => isPoll(r.url(), r.resourceType()), { timeout: 15_000 });
  await expect(page.getByLabel("E-mail address")).toHaveValue("half-typed@exa");
});
