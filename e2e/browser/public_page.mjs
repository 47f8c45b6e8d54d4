// Drives the public results page in headless Chromium: for each query, types it into the search box, submits,
// waits for the answer and prints what a visitor sees (the status line and every row's id and text) as one JSON
// line. The Rust test that starts the services asserts on it.
//
//   node e2e/browser/public_page.mjs http://127.0.0.1:PORT QUERY [QUERY …]
import { drive } from './chromium.mjs';

const [base, ...queries] = process.argv.slice(2);
await drive(async (page) => {
  await page.goto(`${base}/public`);
  const seen = [];
  for (const query of queries) {
    await page.fill('#q', query);
    const answered = page.waitForResponse((r) => r.url().includes('/public/results'));
    await page.click('button[type=submit]');
    await answered;
    await page.waitForFunction(() => document.getElementById('status').textContent !== '查询中…');
    const rows = await page.$$eval('#results tbody tr', (trs) =>
      trs.filter((tr) => tr.offsetParent !== null).map((tr) => ({ id: tr.dataset.id, text: tr.innerText })));
    const status = await page.textContent('#status');
    seen.push({ query, status, rows });
  }
  return { title: await page.title(), seen };
});
