import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// vnu-jar's module is the path of the W3C validator's jar (it runs on Java).
import vnuJarPath from "vnu-jar";
const vnuJar = String(vnuJarPath);

// The public pages as a reader's browser receives them, bytes unchanged.
const PAGES = [
  "/",
  "/sv",
  "/en/incidents/atg-2024-08-24-v75",
  "/sv/incidents/atg-2024-08-24-v75",
  "/en/history",
  "/me",
];

interface VnuMessage {
  type: string;
  subType?: string;
  message: string;
  extract?: string;
  lastLine?: number;
  url?: string;
}

// Leptos marks hydration boundaries with `<!>`, an empty comment that the
// validator calls a "Bogus comment". That one message, on that marker, is
// the framework's and harmless; nothing else is let through.
const isHydrationMarker = (m: VnuMessage) =>
  m.message === "Bogus comment." && (m.extract ?? "").includes("<!>");

test("the public pages are valid HTML (W3C validator)", async ({ request }) => {
  const dir = mkdtempSync(join(tmpdir(), "plaster-vnu-"));
  const files: string[] = [];
  for (const [i, path] of PAGES.entries()) {
    const response = await request.get(path, { headers: { "Accept-Encoding": "identity" } });
    expect(response.status(), path).toBe(200);
    const file = join(dir, `page-${i}.html`);
    writeFileSync(file, await response.body());
    files.push(file);
  }
  let out: string;
  try {
    out = execFileSync("java", ["-jar", vnuJar, "--format", "json", "--stdout", ...files], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
  } catch (e: any) {
    // vnu exits 1 when it reports errors; its report is still on stdout.
    out = e.stdout;
    if (!out) throw e;
  }
  const messages: VnuMessage[] = JSON.parse(out).messages;
  const problems = messages
    .filter((m) => m.type === "error" || (m.type === "info" && m.subType === "warning"))
    .filter((m) => !isHydrationMarker(m))
    .map((m) => {
      const i = files.findIndex((f) => (m.url ?? "").endsWith(f));
      return `${PAGES[i] ?? m.url}:${m.lastLine}: ${m.message} [${(m.extract ?? "").trim()}]`;
    });
  expect(problems, problems.join("\n")).toEqual([]);
});
