// Imports a directory file in the console in headless Chromium, as a clerk would: signs in, opens the import page,
// chooses the file (the bytes given as hex), imports it, reads the summary and each rejection's row, then downloads
// the rejected rows and prints them as hex, with what it saw, as one JSON line for the Rust test to check. Then
// imports the file again on the English page, to read the same rejection in English. Screenshots of the report in
// both languages, at a desktop's and a phone's width, go under target/console-screenshots/ (import-rejected-…).
//
// Last, a clerk of a department that does not keep the directory of targets (OTHER_USERNAME) signs in: the page
// offers only the inspectors, and says who imports the targets (import-other-…).
//
//   node e2e/browser/console_import.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD FILE_NAME HEX \
//        OTHER_USERNAME OTHER_PASSWORD
import fs from 'node:fs';
import { drive } from './chromium.mjs';

const [url, username, password, name, hex, otherUsername, otherPassword] = process.argv.slice(2);
await drive(async (page) => {
  await page.goto(`${url}/import`);
  await page.waitForSelector('#sign-in-username');
  await page.fill('#sign-in-username', username);
  await page.fill('#sign-in-password', password);
  await page.click('[data-test=sign-in]');
  await page.waitForSelector('[data-test=import-file]', { state: 'attached' });
  const shots = new URL('../../target/console-screenshots/', import.meta.url).pathname;
  fs.mkdirSync(shots, { recursive: true });
  // Imports the file on the page as it is; the summary and the rejected rows as shown, screenshots taken.
  const importFile = async (lang) => {
    await page.setInputFiles('[data-test=import-file]', { name, mimeType: 'text/csv', buffer: Buffer.from(hex, 'hex') });
    await page.click('[data-test=import-submit]');
    await page.waitForSelector('[data-test=import-summary]');
    const summary = await page.textContent('[data-test=import-summary]');
    const rejections = await page.$$eval('[data-test=rejections] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
    );
    for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: `${shots}import-rejected-${lang}-${form}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 860 });
    return { summary, rejections };
  };
  const { summary, rejections } = await importFile('zh-CN');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=rejected-file]')]);
  const rejected = fs.readFileSync(await download.path()).toString('hex');
  await page.evaluate(() => localStorage.setItem('suiji.lang', 'en'));
  await page.goto(`${url}/import`);
  await page.waitForSelector('[data-test=import-file]', { state: 'attached' });
  const english = await importFile('en');
  // The directory page exports every target its filters select, streamed through the console.
  await page.goto(`${url}/directories?q=${encodeURIComponent('某商贸')}`);
  await page.waitForSelector('[data-test=targets] a[data-target]', { timeout: 60000 });
  const [exported] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-targets]')]);
  const exportedText = fs.readFileSync(await exported.path(), 'utf8');
  // Another department's clerk: no target import offered.
  await page.context().clearCookies();
  const other = {};
  for (const lang of ['zh-CN', 'en']) {
    await page.evaluate((l) => localStorage.setItem('suiji.lang', l), lang);
    await page.goto(`${url}/import`);
    if (lang === 'zh-CN') {
      await page.waitForSelector('#sign-in-username');
      await page.fill('#sign-in-username', otherUsername);
      await page.fill('#sign-in-password', otherPassword);
      await page.click('[data-test=sign-in]');
    }
    await page.waitForSelector('[data-test=targets-elsewhere]');
    other[lang] = {
      hint: (await page.textContent('[data-test=targets-elsewhere]')).trim(),
      targetsOffered: (await page.$('[data-test=import-targets]')) !== null,
      chosen: await page.$eval('.el-radio.is-checked', (r) => r.innerText.trim()),
    };
    for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: `${shots}import-other-${lang}-${form}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 860 });
  }
  return {
    other,
    summary,
    rejections,
    downloadName: download.suggestedFilename(),
    rejected,
    english: english.rejections,
    exportName: exported.suggestedFilename(),
    exportedText,
  };
});
