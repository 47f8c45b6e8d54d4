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
    const seen = await use(page);
    console.log(JSON.stringify({ errors, ...seen }));
  } finally {
    await browser.close();
  }
}
