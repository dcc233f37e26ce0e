import { test, expect } from "@playwright/test";
import { signInAsNew } from "../tests/cli";

const out = (name: string) => `../docs/screenshots/${name}.png`;

test("the README's screenshots", async ({ browser }) => {
  test.setTimeout(120_000);

  const light = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: "light" });
  const front = await light.newPage();
  await front.goto("/sv");
  await expect(front.locator("html")).toHaveAttribute("data-hydrated", "true");
  await front.screenshot({ path: out("front-page-sv") });

  const dark = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: "dark" });
  const incident = await dark.newPage();
  await incident.goto("/en/incidents/atg-2024-08-24-v75");
  await expect(incident.locator("html")).toHaveAttribute("data-hydrated", "true");
  await incident.screenshot({ path: out("incident-en") });

  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
  const console = await phone.newPage();
  await signInAsNew(console, "shots", "communications");
  await console.goto("/staff/incidents/new");
  await console.screenshot({ path: out("console-phone-new-incident"), fullPage: true });
});
