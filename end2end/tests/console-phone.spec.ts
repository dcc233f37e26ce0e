import { test, expect, Page } from "@playwright/test";
import { signInAsNew } from "./cli";

// Communications staff run incidents from their phones: every console page
// must fit a 360 px screen without sideways scrolling, and what a thumb
// presses must be at least 44 px tall.

/** The first link on `listPath` whose href matches `pattern`. */
async function firstLink(page: Page, listPath: string, pattern: RegExp): Promise<string> {
  await page.goto(listPath);
  const hrefs = await page.locator("main a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
  const href = hrefs.find((h) => pattern.test(h));
  if (!href) throw new Error(`no link like ${pattern} on ${listPath}`);
  return href;
}

/** Controls narrower or shorter than a thumb, described for the failure message. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const controls = document.querySelectorAll<HTMLElement>(
      "button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), header nav a, .who a, label:has(> input[type=checkbox]), label:has(> input[type=radio])",
    );
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not shown
      if (r.height < 44) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || (el as HTMLInputElement).name || "").trim().slice(0, 30)}" is ${Math.round(r.height)} px tall`);
    }
    return out;
  });
}

test("every console page fits a 360 px phone, with 44 px touch targets", async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  const problems: string[] = [];
  await page.goto("/staff/login");
  const loginWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (loginWidth > 360) problems.push(`/staff/login: ${loginWidth} px wide`);
  await signInAsNew(page, "phone", "admin", "communications", "support");
  const incident = await firstLink(page, "/staff/incidents", /^\/staff\/incidents\/(?!new$)[a-z0-9-]+$/);
  const mail = await firstLink(page, "/staff/mail", /^\/staff\/mail\/[^/]+$/).catch(() => "/staff/mail/templates");
  const claim = await firstLink(page, "/staff/claims", /^\/staff\/claims\/(?!limits$)[a-z0-9]+$/);
  const pages = [
    "/staff", "/staff/incidents", "/staff/incidents/new", incident, `${incident}/apology`,
    "/staff/maintenance", "/staff/templates", "/staff/components", "/staff/accounts",
    "/staff/audit", "/staff/webhooks", "/staff/mail", "/staff/mail/templates", mail, "/staff/password", "/staff/two-factor",
    "/staff/customers", "/staff/customers?q=s-0000001",
    "/staff/compensation",
    "/staff/compensation/runs/sumo-2018-08-20", "/staff/compensation/runs/atg-2023-09-16",
    "/staff/compensation/runs/atg-2023-09-16/ledger", "/staff/ledger", "/staff/ledger/account?name=jackpot%3Afund",
    "/staff/payouts", "/staff/claims", "/staff/claims/limits", claim,
  ];
  const check = async (on: typeof page, paths: string[]) => {
    for (const path of paths) {
      const response = await on.goto(path);
      expect(response?.status(), path).toBe(200);
      const width = await on.evaluate(() => document.documentElement.scrollWidth);
      if (width > 360) problems.push(`${path}: ${width} px wide`);
      for (const small of await smallTargets(on)) problems.push(`${path}: ${small}`);
    }
  };
  await check(page, pages);
  // Drafting a run and the markets' remedies are finance's alone (an admin
  // neither drafts runs nor holds finance and support at once).
  const financeContext = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
  const finance = await financeContext.newPage();
  await signInAsNew(finance, "phone-finance", "finance");
  await check(finance, ["/staff/compensation/new?incident=atg-2024-08-24-v75", "/staff/markets"]);
  expect(problems).toEqual([]);
  await financeContext.close();
  await context.close();
});
