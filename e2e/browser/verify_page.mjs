// Drives the 扫码入企 page in headless Chromium as a target would after scanning a team's QR code: opens
// `/verify?code=CODE`, waits for the verdict and prints what it shows (the verdict, the team's rows, the items'
// rows) as one JSON line for the Rust test to check.
//
//   node e2e/browser/verify_page.mjs http://127.0.0.1:PORT CODE
import { drive } from './chromium.mjs';

const [base, code] = process.argv.slice(2);
await drive(async (page) => {
  await page.goto(`${base}/verify?code=${encodeURIComponent(code)}`);
  await page.waitForSelector('#verdict:not([hidden])');
  const rows = (table) => page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => tr.innerText));
  return {
    verdict: await page.textContent('#verdict'),
    task: await page.textContent('#task'),
    team: await rows('team'),
    items: await rows('items'),
  };
});
