// An editor and publisher of 610400-SCJG drafts a catalog item in the console, as a person would: saving it without
// a name shows the service's violation at the name field; with every field filled in it is saved as a draft and
// published; then edited again, and the two versions are compared side by side. Prints what the pages showed as one
// JSON line for the Rust test to check against the catalog service.
//
//   node e2e/browser/console_catalog.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD CODE
import { drive } from './chromium.mjs';

const [url, username, password, code] = process.argv.slice(2);
const long = { timeout: 60000 };
await drive(async (page) => {
  await page.goto(`${url}/catalog`);
  await page.waitForSelector('#sign-in-username');
  await page.fill('#sign-in-username', username);
  await page.fill('#sign-in-password', password);
  await page.click('[data-test=sign-in]');
  await page.click('[data-test=new-item]', long);
  await page.waitForSelector('[data-test=item-editor]');
  await page.fill('#item-code', code);
  await page.fill('[aria-label="检查依据 1"]', '《企业信息公示暂行条例》第十四条');
  await page.fill('[aria-label="检查内容 1"]', '年度报告是否按时公示');
  await page.click('[data-test=save-item]');
  await page.waitForSelector('.el-form-item.is-error .el-form-item__error');
  const nameError = await page.$eval('.el-form-item.is-error', (e) => ({
    label: e.querySelector('.el-form-item__label')?.textContent,
    error: e.querySelector('.el-form-item__error')?.textContent,
  }));
  await page.fill('#item-name', '企业年度报告公示情况检查');
  await page.click('[data-test=save-item]');
  await page.waitForSelector('[data-test=item-content]', long);
  const drafted = await page.getAttribute('[data-state]', 'data-state');
  await page.click('[data-test=publish-item]');
  await page.waitForSelector('[data-state=published]', long);
  await page.click('[data-test=edit-item]');
  await page.waitForSelector('[data-test=item-editor]');
  await page.waitForFunction(() => document.querySelector('#item-name')?.value !== '');
  await page.fill('#item-name', '企业年度报告和即时信息公示情况检查');
  await page.click('[data-test=save-item]');
  await page.waitForSelector('[data-test=versions]', long);
  const changed = await page.$$eval('[data-test=versions] tbody tr.changed td:first-child', (tds) => tds.map((td) => td.innerText.trim()));

  // The session ends mid-form (signed out elsewhere): saving asks to sign in again over the page, and what was typed
  // is still there to save.
  await page.click('[data-test=edit-item]');
  await page.waitForFunction(() => document.querySelector('#item-name')?.value !== '');
  await page.fill('#item-remarks', '会话过期后仍保留的备注');
  await page.evaluate(async () => {
    const me = await (await fetch('/console/session')).json();
    await fetch('/console/session', { method: 'DELETE', headers: { 'x-suiji-csrf': me.csrf } });
  });
  await page.click('[data-test=save-item]');
  await page.waitForSelector('.el-dialog #sign-in-password');
  const askedAgain = await page.textContent('.el-dialog');
  await page.screenshot({ path: new URL('../../target/console-screenshots/session-ended-zh-CN-desktop.png', import.meta.url).pathname });
  await page.fill('.el-dialog #sign-in-password', password);
  await page.click('.el-dialog [data-test=sign-in]');
  await page.waitForSelector('.el-dialog #sign-in-password', { state: 'hidden' });
  const kept = await page.inputValue('#item-remarks');
  await page.click('[data-test=save-item]');
  await page.waitForSelector('[data-test=item-content]', long);
  return { nameError, drafted, changed, askedAgain, kept };
});
