import { test, expect } from "@playwright/test";

// The budget from the newcomer issue: the front page's news is one
// sentence, so its HTML must stay small (it was 237 KiB with a focusable
// cell and a tooltip per day; see docs/benchmarks-http.md, "Page weight").
const PAGE_BUDGET = 60 * 1024;

test("the front page is under 60 KiB of HTML in every language", async ({ request }) => {
  for (const path of ["/", "/sv", "/nb", "/en"]) {
    const response = await request.get(path, { headers: { "Accept-Encoding": "identity" } });
    expect(response.status(), path).toBe(200);
    const bytes = (await response.body()).length;
    expect(bytes, `${path} is ${bytes} bytes`).toBeLessThan(PAGE_BUDGET);
  }
});
