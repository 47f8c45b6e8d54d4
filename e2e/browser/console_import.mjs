// Imports a directory file in the console in headless Chromium, as a clerk would: signs in with a token, chooses
// the file (the bytes given as hex), imports it, reads the summary and each rejection's row, then downloads the
// rejected rows and prints them as hex, with what it saw, as one JSON line for the Rust test to check.
//
//   node e2e/browser/console_import.mjs http://127.0.0.1:PORT/console TOKEN FILE_NAME HEX
import { drive } from './chromium.mjs';

const [url, token, name, hex] = process.argv.slice(2);
await drive(async (page) => {
  await page.goto(url);
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', token);
  await page.click('#sign-in');
  await page.waitForSelector('#import:not(.hidden)');
  await page.selectOption('#import-what', 'targets');
  await page.setInputFiles('#import-file', { name, mimeType: 'text/csv', buffer: Buffer.from(hex, 'hex') });
  await page.click('#import-run');
  await page.waitForFunction(() => document.querySelector('#import-summary').textContent.startsWith('共读取'));
  const summary = await page.textContent('#import-summary');
  const rejections = await page.$$eval('#import-rejections tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#import-download')]);
  const fs = await import('node:fs');
  const rejected = fs.readFileSync(await download.path()).toString('hex');
  return { summary, rejections, downloadName: download.suggestedFilename(), rejected };
});
