// The drivers' shared part: a headless Debian Chromium (`CHROMIUM`, default /usr/bin/chromium) through
// playwright-core; `drive(use)` gives `use` a fresh page and prints what it returns, with the page's script
// errors, as one JSON line for the Rust test that started the services.
import { chromium } from 'playwright-core';

export async function drive(use) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    let seen;
    try {
      seen = await use(page);
    } catch (error) {
      // What the page showed when the scenario stopped, for the person reading the failure.
      const dir = new URL('../../target/console-screenshots/', import.meta.url);
      const fs = await import('node:fs');
      fs.mkdirSync(dir, { recursive: true });
      const name = process.argv[1].split('/').pop().replace('.mjs', '');
      await page.screenshot({ path: new URL(`failed-${name}.png`, dir).pathname, fullPage: true }).catch(() => {});
      throw error;
    }
    console.log(JSON.stringify({ errors, ...seen }));
  } finally {
    await browser.close();
  }
}
