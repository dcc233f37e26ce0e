import { chromium } from "@playwright/test";
const base = "http://127.0.0.1:3200";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const ctx = await browser.newContext({ viewport: { width: 360, height: 800 } });
await ctx.addCookies([{ name: "plaster_customer", value: process.argv[2], url: base }]);
const page = await ctx.newPage();
for (const scheme of ["light", "dark"]) {
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto(base + "/en/me");
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `/tmp/shots/me-${scheme}.png`, fullPage: true });
  console.log(scheme, "scrollWidth", await page.evaluate(() => document.documentElement.scrollWidth));
}
await page.emulateMedia({ colorScheme: "light" });
await page.click("text=File a claim about this incident");
await page.waitForTimeout(500);
await page.screenshot({ path: "/tmp/shots/claim-form.png", fullPage: true });
console.log("claim form scrollWidth", await page.evaluate(() => document.documentElement.scrollWidth));
await page.goto(base + "/en/incidents/atg-2024-08-24-v75");
await page.screenshot({ path: "/tmp/shots/incident.png", fullPage: true });
await browser.close();
