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

// The same issue's budget for the browser bundle: 500 KB of wasm, raw. Only
// the islands (app/src/islands.rs) are compiled for the browser; the whole
// app hydrated was 1.1 MB (docs/benchmarks-http.md, "The wasm").
const WASM_BUDGET = 500 * 1000;

test("the wasm bundle the pages load is under 500 KB", async ({ request }) => {
  const html = await (await request.get("/en")).text();
  const wasm = html.match(/href="([^"]+\.wasm)"/)?.[1];
  expect(wasm, "the page preloads its wasm").toBeTruthy();
  const response = await request.get(wasm!, { headers: { "Accept-Encoding": "identity" } });
  expect(response.status()).toBe(200);
  const bytes = (await response.body()).length;
  expect(bytes, `${wasm} is ${bytes} bytes`).toBeLessThan(WASM_BUDGET);
});
