// Imports a directory file in the console in headless Chromium, as a clerk would: signs in, opens the import page,
// chooses the file (the bytes given as hex), imports it, reads the summary and each rejection's row, then downloads
// the rejected rows and prints them as hex, with what it saw, as one JSON line for the Rust test to check.
//
//   node e2e/browser/console_import.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD FILE_NAME HEX
import { drive } from './chromium.mjs';

const [url, username, password, name, hex] = process.argv.slice(2);
await drive(async (page) => {
  await page.goto(`${url}/import`);
  await page.waitForSelector('#sign-in-username');
  await page.fill('#sign-in-username', username);
  await page.fill('#sign-in-password', password);
  await page.click('[data-test=sign-in]');
  await page.waitForSelector('[data-test=import-file]', { state: 'attached' });
  await page.setInputFiles('[data-test=import-file]', { name, mimeType: 'text/csv', buffer: Buffer.from(hex, 'hex') });
  await page.click('[data-test=import-submit]');
  await page.waitForSelector('[data-test=import-summary]');
  const summary = await page.textContent('[data-test=import-summary]');
  const rejections = await page.$$eval('[data-test=rejections] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
  );
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=rejected-file]')]);
  const fs = await import('node:fs');
  const rejected = fs.readFileSync(await download.path()).toString('hex');
  return { summary, rejections, downloadName: download.suggestedFilename(), rejected };
});
