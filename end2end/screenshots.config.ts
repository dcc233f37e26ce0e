import base from "./playwright.config";

// The README's screenshots, taken from the demo: `scripts/e2e.sh --config screenshots.config.ts`.
// Not part of `make test`; they are pictures, not checks.
export default { ...base, testDir: "./screenshots" };
