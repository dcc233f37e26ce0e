import { test, expect } from "@playwright/test";

const V75 = "/en/incidents/atg-2024-08-24-v75";
/** The incidents the demo seeds (server/src/status/demo.rs). */
const DEMO_INCIDENTS = [
  "atg-2024-08-24-v75",
  "atg-2023-09-16-v75",
  "tv2-2018-08-20-sumo",
  "recent-slow-withdrawals",
  "recent-casino-loading",
];

test("an incident page shows its full timeline", async ({ page }) => {
  await page.goto(V75);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    "Betting stopped before the V75 dream jackpot deadline",
  );
  const timeline = page.getByTestId("timeline");
  await expect(timeline).toBeVisible();
  await expect(timeline.locator(":scope > li")).toHaveCount(5);
  await expect(timeline).toContainText("A false close signal from Svensk Travsport");
  await expect(timeline.locator(".changes").first()).toContainText("Major outage");
  await expect(page.getByTestId("duration")).toHaveText("4 h 35 min");
  await expect(page.getByTestId("affected")).toContainText("Casino");
});

test("an unknown incident says so", async ({ page }) => {
  const response = await page.goto("/en/incidents/does-not-exist");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Incident not found");
});

test("the history lists the demo incidents by month, and the links work", async ({ page }) => {
  await page.goto("/en/history");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Incident history");
  const months = page.getByTestId("history-month");
  await expect(months.getByRole("heading", { level: 2 }).filter({ hasText: "August 2024" })).toBeVisible();
  await expect(months.getByRole("heading", { level: 2 }).filter({ hasText: "September 2023" })).toBeVisible();
  await expect(months.getByRole("heading", { level: 2 }).filter({ hasText: "August 2018" })).toBeVisible();
  // Each demo incident once; other specs may add incidents of their own.
  for (const id of DEMO_INCIDENTS) {
    await expect(page.getByTestId("history-item").locator(`a[href="/en/incidents/${id}"]`), id).toHaveCount(1);
  }
  await page.getByRole("link", { name: "Sumo: sign-in failing at kick-off of Crystal Palace – Liverpool" }).click();
  await expect(page).toHaveURL(/\/en\/incidents\/tv2-2018-08-20-sumo$/);
  await expect(page.getByTestId("timeline")).toContainText("Many viewers cannot sign in");
});

test("the front page links to the history and to each incident", async ({ page }) => {
  await page.goto("/en");
  await page.getByTestId("history-link").click();
  await expect(page).toHaveURL(/\/en\/history$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Incident history");
});

test("the language switcher keeps the page", async ({ page }) => {
  await page.goto("/en/incidents/atg-2023-09-16-v75");
  const switcher = page.getByRole("navigation", { name: "Language" });
  await expect(switcher.getByRole("link", { name: "Svenska" })).toHaveAttribute(
    "href",
    "/sv/incidents/atg-2023-09-16-v75",
  );
  await switcher.getByRole("link", { name: "Svenska" }).click();
  await expect(page).toHaveURL(/\/sv\/incidents\/atg-2023-09-16-v75$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    "Inloggning och spel fungerar inte före V75 på Färjestad",
  );
  await page.goto("/sv/history");
  await page.getByRole("navigation", { name: "Språk" }).getByRole("link", { name: "Norsk bokmål" }).click();
  await expect(page).toHaveURL(/\/nb\/history$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hendelseshistorikk");
});

test.describe("a Norwegian browser", () => {
  test.use({ locale: "nb-NO" });
  test("gets the front page in Norwegian", async ({ page }) => {
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "nb");
    await expect(page.getByTestId("overall")).toContainText("Alle systemer fungerer");
  });
});

test.describe("a reader in New York", () => {
  test.use({ timezoneId: "America/New_York" });
  test("sees times in their own zone, named", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(V75);
    // The server renders Stockholm time; the hydrated page rewrites it.
    await expect(page.getByTestId("time-zone")).toHaveText("America/New_York", { timeout: 15_000 });
    await expect(page.getByTestId("timeline").locator("time").first()).toHaveText("2024-08-24 10:06 EDT");
    expect(errors).toEqual([]);
  });
});

test("an uptime day shows its incidents on keyboard focus", async ({ page }) => {
  await page.goto("/en");
  const day = page.locator(".uptime-bar .day").filter({ hasText: "Casino games fail to start" }).first();
  const tip = day.locator(".tip");
  await expect(tip).toBeHidden();
  await day.focus();
  await expect(tip).toBeVisible();
  await expect(tip).toContainText("Casino games fail to start");
  await expect(day).toHaveAttribute("aria-label", /Casino games fail to start/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("an incident page is readable", async ({ page }) => {
    await page.goto("/nb/incidents/tv2-2018-08-20-sumo");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Sumo: innlogging fungerer ikke ved avspark Crystal Palace – Liverpool",
    );
    await expect(page.getByTestId("timeline")).toContainText("Mange seere får ikke logget inn");
    await expect(page.getByTestId("timeline")).toContainText("2018-08-20 21:02 CEST");
  });
  test("the history is readable and paginated", async ({ page }) => {
    await page.goto("/sv/history?page=1");
    await expect(page.getByText("augusti 2024")).toBeVisible();
    // Other specs may have added incidents: the count of pages is theirs.
    await expect(page.getByText(/^Sida 1 av \d+$/)).toBeVisible();
  });
});
