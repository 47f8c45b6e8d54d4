// A person of 610400-STHJ signs in to the console through the department's identity provider (OpenID Connect),
// as they would: the console offers only the provider's button (it holds no signing key), the provider asks for
// the login and the consent, and the console opens where the person was going, signed in with the department
// and roles the provider's access token carries; a draft catalog item is then saved through the catalog service,
// which verifies that token with the provider's keys and files the item under the token's department. A provider answer with a forged state is refused. Prints what the pages showed
// as one JSON line; screenshots of the sign-in page in both languages.
//
//   node e2e/browser/console_oidc.mjs http://127.0.0.1:PORT/console LOGIN
import { drive } from './chromium.mjs';

const [url, login] = process.argv.slice(2);
const long = { timeout: 60000 };
const shots = new URL('../../target/console-screenshots/', import.meta.url).pathname;
await drive(async (page) => {
  await page.goto(`${url}/catalog`);
  await page.waitForSelector('[data-test=sign-in-oidc]');
  const button = (await page.textContent('[data-test=sign-in-oidc]')).trim();
  const localForm = await page.$('#sign-in-username');
  await page.screenshot({ path: `${shots}sign-in-oidc-zh-CN-desktop.png` });

  // A provider's answer whose state this browser never began is refused, and the page says why.
  await page.goto(`${url}/oidc/callback?code=forged&state=forged`);
  await page.waitForSelector('.sso-failed');
  const forged = (await page.textContent('.sso-failed')).trim();

  await page.goto(`${url}/catalog`);
  await page.click('[data-test=sign-in-oidc]');
  await page.waitForSelector('input[name=login]', long);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.waitForSelector('button[type=submit]:has-text("Continue")', long);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/console\/catalog/, long);
  await page.waitForSelector('[data-test=who]', long);
  const signedInAs = (await page.textContent('[data-test=who]')).trim();
  // A draft item of the person's department, saved through the catalog service with the provider's token.
  await page.click('[data-test=new-item]', long);
  await page.waitForSelector('[data-test=item-editor]');
  await page.fill('#item-code', 'SX-STHJ-OIDC-1');
  await page.fill('#item-name', '排污许可证执行情况检查');
  await page.fill('[aria-label="检查依据 1"]', '《排污许可管理条例》第三十四条');
  await page.fill('[aria-label="检查内容 1"]', '是否按证排污');
  await page.click('[data-test=save-item]');
  await page.waitForSelector('[data-test=item-content]', long);
  const saved = await page.getAttribute('[data-state]', 'data-state');
  // Its editing buttons show only to its own department.
  const own = (await page.$('[data-test=edit-item]')) !== null;
  const me = await page.evaluate(async () => (await fetch('/console/session')).json());
  const toasts = await page.$$eval('.el-message--error', (e) => e.map((x) => x.textContent));
  await page.screenshot({ path: `${shots}signed-in-oidc-zh-CN-desktop.png` });

  // Signing out ends the session; the page asks to sign in again.
  await page.evaluate(async (csrf) => {
    await fetch('/console/session', { method: 'DELETE', headers: { 'x-suiji-csrf': csrf } });
  }, me.csrf);
  const after = await page.evaluate(async () => (await fetch('/console/session')).status);

  await page.evaluate(() => localStorage.setItem('suiji.lang', 'en'));
  await page.goto(`${url}/sign-in`);
  await page.waitForSelector('[data-test=sign-in-oidc]');
  const buttonEn = (await page.textContent('[data-test=sign-in-oidc]')).trim();
  await page.screenshot({ path: `${shots}sign-in-oidc-en-desktop.png` });
  return {
    button,
    buttonEn,
    localForm: localForm !== null,
    forged,
    signedInAs,
    saved,
    own,
    department: me.department,
    roles: me.roles,
    subject: me.subject,
    toasts,
    after,
  };
});
