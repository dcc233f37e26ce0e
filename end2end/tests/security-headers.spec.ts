import { test, expect, type Page } from "@playwright/test";
import { signInAsNew } from "./cli";

// #15.6: the pages run under their Content-Security-Policy (scripts by
// hash, no inline script allowed wholesale) without a single violation,
// and the wasm still hydrates them.

/** Collects the page's CSP violations, as the browser reports them. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text());
  });
  await page.exposeFunction("__cspViolation", (v: string) => seen.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { __cspViolation: (v: string) => void }).__cspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
      ),
    );
  });
  return seen;
}

test("the public pages hydrate under their policy with no violation", async ({ page }) => {
  const violations = await watchViolations(page);
  for (const path of ["/", "/sv/incidents/atg-2024-08-24-v75", "/en/history", "/me"]) {
    const response = await page.goto(path);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("'sha256-");
    expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
    await expect(page.locator("html"), path).toHaveAttribute("data-hydrated", "true", { timeout: 15_000 });
  }
  expect(violations).toEqual([]);
});

test("the console runs under its policy and refuses frames", async ({ page }) => {
  const violations = await watchViolations(page);
  await signInAsNew(page, "csp", "finance", "communications");
  for (const path of ["/staff", "/staff/incidents/new", "/staff/compensation", "/staff/ledger"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    expect(response?.headers()["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(response?.headers()["x-frame-options"], path).toBe("DENY");
  }
  // The console's own script (ask before a destructive action) still runs.
  await page.goto("/staff/compensation");
  const asked = await page.evaluate(() => {
    let question = "";
    window.confirm = (q?: string) => ((question = q ?? ""), false);
    const b = document.createElement("button");
    b.dataset.confirm = "Really?";
    document.body.append(b);
    b.click();
    return question;
  });
  expect(asked).toBe("Really?");
  expect(violations).toEqual([]);
});
