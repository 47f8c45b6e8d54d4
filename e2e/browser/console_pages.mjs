// Opens every page of the console in headless Chromium in both languages, at a desktop's and a phone's width, as
// the lead's coordinator: writes a screenshot of each under target/console-screenshots/ (named page-language-width),
// runs axe-core on each (the WCAG 2 A and AA rules) and reads, on the Chinese pages, any run of Latin letters that is
// not a code (department, item or target codes, ids, digests). Also walks the sign-in form and the menu by keyboard
// alone. Prints per page the serious or critical violations and the English words found, as one JSON line.
//
//   node e2e/browser/console_pages.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD TASK
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [url, username, password, task] = process.argv.slice(2);
const out = new URL('../../target/console-screenshots/', import.meta.url).pathname;
fs.mkdirSync(out, { recursive: true });
const axe = fs.readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const pages = [
  ['sign-in', '/sign-in', '#sign-in-username'],
  ['work', '/work', '[data-test=work-table] tbody tr'],
  ['sagas', '/sagas', '[data-test=sagas] a[data-task]'],
  ['saga', `/sagas/${encodeURIComponent(task)}`, '[data-test=visits] [data-visit]'],
  ['draws', '/draws', '[data-test=draws] a[data-draw]'],
  ['draw', `/draws/${encodeURIComponent(task)}`, '[data-test=target-seed]'],
  ['directories', '/directories', '[data-test=targets] a[data-target]'],
  ['inspectors', '/directories?tab=inspectors', '[data-test=inspectors] [data-inspector]'],
  ['target', '/directories/targets/:target', '[data-test=target-details]'],
  ['import', '/import', '[data-test=import-file]'],
  ['results', '/results', '[data-test=results]'],
  ['reports', '/reports', '[data-test=report]'],
  ['accounts', '/accounts', '[data-test=accounts] [data-account]'],
  ['deliveries', '/deliveries', '[data-test=deliveries]'],
  ['plans', '/plans', '[data-test=plans] a[data-plan]'],
  ['plan', '/plans/:plan', '[data-test=entries] tbody tr'],
  ['plan-editor', '/plans/new', '[data-test=plan-editor]'],
  ['catalog', '/catalog', '[data-test=items] a[data-item]'],
  ['item', '/catalog/:item', '[data-test=item-content]'],
  ['item-editor', '/catalog/new', '[data-test=item-editor]'],
  ['coverage', '/coverage', '[data-test=caps]'],
  ['recusals', '/directories?tab=recusals', '[data-test=recusals]'],
  ['audit', '/audit', '[data-test=audit-entries] [data-seq]'],
];
let item = '';
let plan = '';
let target = '';
const seen = { errors: [], pages: {}, keyboard: null };
try {
  for (const lang of ['zh-CN', 'en']) {
    for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
      // axe is injected as a script: the test's context lets it past the page's Content-Security-Policy.
      const context = await browser.newContext({ viewport: { width, height }, bypassCSP: true, acceptDownloads: false });
      await context.addInitScript((l) => localStorage.setItem('suiji.lang', l), lang);
      const page = await context.newPage();
      page.on('pageerror', (e) => seen.errors.push(String(e)));
      for (const [name, path, ready] of pages) {
        if (name !== 'sign-in' && !(await page.$('[data-test=sign-out]'))) {
          await page.goto(`${url}/sign-in`);
          await page.fill('#sign-in-username', username);
          await page.fill('#sign-in-password', password);
          await page.click('[data-test=sign-in]');
          await page.waitForSelector('[data-test=sign-out]');
        }
        await page.goto(`${url}${path.replace(':item', encodeURIComponent(item)).replace(':plan', encodeURIComponent(plan)).replace(':target', encodeURIComponent(target))}`);
        await page.waitForSelector(ready, { state: 'attached', timeout: 60000 });
        if (name === 'catalog') item = await page.getAttribute('[data-test=items] a[data-item]', 'data-item');
        if (name === 'plans') plan = await page.getAttribute('[data-test=plans] a[data-plan]', 'data-plan');
        if (name === 'directories') target = await page.getAttribute('[data-test=targets] a[data-target]', 'data-target');
        // Quiet network, except on the inspection's page, which keeps a stream open for its changes: there, no
        // loading mask and a moment for the last reads.
        if (name === 'saga') {
          await page.waitForFunction(() => ![...document.querySelectorAll('.el-loading-mask')].some((m) => m.checkVisibility()), null, { timeout: 60000 });
          await page.waitForTimeout(2000);
        } else {
          await page.waitForLoadState('networkidle');
        }
        await page.screenshot({ path: `${out}${name}-${lang}-${form}.png`, fullPage: true });
        await page.addScriptTag({ content: axe });
        const violations = await page.evaluate(async () => {
          const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] });
          return r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
        });
        // Words of four or more Latin letters, outside codes and outside what the services still write in English
        // (marked data-untranslated until they send codes with parameters), and outside what a person typed (data-user-text).
        const english = lang === 'zh-CN'
          ? await page.evaluate(() => {
              const words = new Set();
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const el = n.parentElement;
                if (!el || !el.checkVisibility() || el.closest('code, .code, [data-untranslated], [data-user-text], script, style')) continue;
                for (const w of n.textContent.split(/[\s，、：；（）()·,:;/]+/)) {
                  if (/^[A-Za-z][a-z]{3,}[.!?]?$/.test(w)) words.add(w);
                }
              }
              return [...words];
            })
          : [];
        seen.pages[`${name}-${lang}-${form}`] = { violations, english };
      }
      if (lang === 'zh-CN' && form === 'desktop') {
        // By keyboard alone: sign out, then sign in with Tab and Enter, and reach the menu.
        await page.click('[data-test=sign-out]');
        await page.waitForSelector('#sign-in-username');
        await page.focus('#sign-in-username');
        await page.keyboard.type(username);
        await page.keyboard.press('Tab');
        await page.keyboard.type(password);
        await page.keyboard.press('Enter');
        await page.waitForSelector('[data-test=sign-out]');
        let reached = '';
        for (let i = 0; i < 15 && !reached; i += 1) {
          await page.keyboard.press('Tab');
          reached = await page.evaluate(() => (document.activeElement?.closest('nav') ? document.activeElement.textContent.trim() : ''));
        }
        seen.keyboard = { signedIn: true, menu: reached };
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
