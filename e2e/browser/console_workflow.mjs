// Drives a joint inspection through the console in headless Chromium, as two departments' coordinators would: the
// participant takes part; the lead reviews the drawn targets, approves them and schedules every visit; on the first
// visit each department records its findings on its own check points and the lead registers a photo as evidence,
// the lead notes the target's refusal to sign, gives each member an account with their inspector id, each member
// signs in and confirms the record for themselves, and the lead concludes it as
// inspected; the other visits end with the target not found; the lead transfers its problem to the participant,
// which accepts and closes it. Prints what the pages showed as one JSON line for the Rust test to check against the
// inspection service.
//
//   node e2e/browser/console_workflow.mjs http://127.0.0.1:PORT/console PARTICIPANT PASSWORD LEAD PASSWORD TASK REVIEWER PASSWORD
import { drive } from './chromium.mjs';

const [url, participant, participantPassword, lead, leadPassword, task, reviewer, reviewerPassword] = process.argv.slice(2);
// The evidence file's bytes (the test checks the SHA-256 the page computed from them).
const photo = 'suiji evidence photo 1';
const long = { timeout: 60000 };
await drive(async (page) => {
  const signIn = async (username, password) => {
    await page.goto(`${url}/sagas/${encodeURIComponent(task)}`);
    await page.waitForSelector('#sign-in-username');
    await page.fill('#sign-in-username', username);
    await page.fill('#sign-in-password', password);
    await page.click('[data-test=sign-in]');
    await page.waitForSelector('[data-test=phase]', long);
  };
  const closeVisit = async () => {
    await page.click('.visit-record .el-drawer__close-btn');
    await page.waitForSelector('.visit-record', { state: 'detached' });
  };
  const signOut = async () => {
    if (await page.$('.visit-record')) await closeVisit();
    await page.click('[data-test=sign-out]');
    await page.waitForSelector('#sign-in-username');
  };
  const phase = () => page.getAttribute('[data-test=phase]', 'data-phase');
  // Picks an option of the open select, then waits for its list to close (the next select opens a list of its own).
  // (A click that lands while the list is still opening is lost: it is clicked again until the list closes.)
  const choose = async (text, exact = true) => {
    const closed = () => ![...document.querySelectorAll('.el-select-dropdown__item')].some((o) => o.checkVisibility());
    for (let attempt = 1; ; attempt += 1) {
      const options = page.locator('.el-select-dropdown__item:visible');
      await (exact ? options.filter({ has: page.getByText(text, { exact: true }) }) : options.filter({ hasText: text }))
        .first()
        .click();
      const done = await page.waitForFunction(closed, null, { timeout: 5000 }).then(() => true, () => false);
      if (done) return;
      if (attempt === 3) throw new Error(`the list did not close after choosing ${text}`);
    }
  };
  const firstVisit = '[data-test=visits] .el-table__body tr:first-child';
  // Concludes a visit from its row's menu (clicked again if the click landed while the menu was opening).
  const conclude = async (button, outcome) => {
    await page.click(button);
    for (let attempt = 1; ; attempt += 1) {
      const item = page.locator(`.el-dropdown-menu__item:visible[data-outcome=${outcome}]`);
      await item.click();
      const closed = await item.waitFor({ state: 'hidden', timeout: 5000 }).then(() => true, () => false);
      if (closed) return;
      if (attempt === 3) throw new Error(`the menu did not close after choosing ${outcome}`);
    }
  };
  const openFirstVisit = async () => {
    await page.click(`${firstVisit} [data-test=visit-open]`, long);
    await page.waitForSelector('.visit-record [data-test=checks]');
  };
  const saved = async (button) => {
    await page.click(button);
    await page.waitForSelector('.el-message--success', long);
    await page.waitForSelector('.el-message--success', { state: 'detached', timeout: 10000 }).catch(() => {});
  };
  const setFindings = async (result, note) => {
    const selects = page.locator('.visit-record .finding-result');
    for (let i = 0; i < (await selects.count()); i += 1) {
      await selects.nth(i).click();
      await choose(result);
    }
    if (note) {
      const notes = page.locator('.visit-record .finding-note input');
      for (let i = 0; i < (await notes.count()); i += 1) await notes.nth(i).fill(note);
    }
    await saved('[data-test=record-findings]');
  };

  await signIn(participant, participantPassword);
  await page.waitForSelector('[data-test=invitation]', long);
  const invited = await phase();
  await page.click('[data-test=accept]');
  await page.waitForSelector('[data-test=invitation]', { state: 'detached' });
  const participants = await page.$$eval('[data-test=participants] tbody tr', (trs) => trs.map((tr) => tr.innerText));
  await signOut();

  await signIn(lead, leadPassword);
  await page.waitForSelector('[data-test=review-strata] tbody tr', long);
  const reviewed = await page.textContent('[data-test=targets]');
  const drawn = await page.$$eval('[data-test=review-strata] tbody tr', (trs) => trs.map((tr) => tr.innerText));
  const digest = await page.textContent('[data-test=review-digest]');
  await page.click('[data-test=approve]');
  await page.waitForSelector('[data-test=visit-schedule]', long);
  const toSchedule = await page.$$eval('[data-test=visits] [data-visit]', (v) => v.length);
  for (let left = toSchedule; left > 0; left -= 1) {
    await page.click('[data-test=visit-schedule] >> nth=0');
    await page.click('[data-test=schedule-save]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-test=visit-schedule]').length < n, left, long);
  }
  await openFirstVisit();
  await setFindings('发现问题', '未按规定公示年度报告');
  // A photo of the problem: its hash is taken in the browser, the file stays in SCJG's storage.
  await page.setInputFiles('[data-test=evidence-file]', { name: 'photo-1.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(photo) });
  await page.fill('#evidence-ref', 's3://scjg-evidence/visit-1/photo-1.jpg');
  await page.fill('#evidence-description', '现场照片：年度报告未公示');
  await page.click('[data-test=attach-evidence]');
  await page.waitForSelector('[data-test=evidence] [data-sha256]', long);
  const evidence = await page.$$eval('[data-test=evidence] [data-sha256]', (es) => es.map((e) => e.dataset.sha256));
  await closeVisit();
  const others = '[data-test=visits] .el-table__body tr:not(:first-child) [data-test=visit-conclude]';
  for (let left = await page.$$eval(others, (b) => b.length); left > 0; left -= 1) {
    await conclude(`${others} >> nth=0`, 'not_found');
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length < n, [others, left], long);
  }
  await signOut();

  await signIn(participant, participantPassword);
  await page.waitForSelector(`${firstVisit} [data-test=visit-open]`, long);
  await openFirstVisit();
  await setFindings('未发现问题');
  await signOut();

  await signIn(lead, leadPassword);
  await openFirstVisit();
  await page.waitForSelector('#refusal-note');
  await page.fill('#refusal-note', '负责人拒绝签字，执法人员二人在场记录');
  await saved('[data-test=refuse]');
  // The coordinator confirms for no one: the page names the members who have still to confirm, each as themselves.
  await page.waitForSelector('[data-test=awaiting-confirmation]');
  const coordinatorConfirms = (await page.$('[data-test=confirm]')) !== null;
  // What the coordinator sees: who has still to confirm, in both languages at both widths.
  const shots = new URL('../../target/console-screenshots/', import.meta.url).pathname;
  (await import('node:fs')).mkdirSync(shots, { recursive: true });
  for (const lang of ['zh-CN', 'en']) {
    await page.evaluate((l) => localStorage.setItem('suiji.lang', l), lang);
    await page.reload();
    await openFirstVisit();
    await page.waitForSelector('[data-test=awaiting-confirmation]', long);
    for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      await page.locator('[data-test=awaiting-confirmation]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}coordinator-awaiting-${lang}-${form}.png` });
    }
  }
  await page.evaluate(() => localStorage.setItem('suiji.lang', 'zh-CN'));
  await page.setViewportSize({ width: 1366, height: 860 });
  await page.reload();
  await openFirstVisit();
  const members = await page.$$eval('.visit-record [data-test=team] [data-inspector]', (ms) =>
    ms.map((m) => ({ inspector: m.dataset.inspector, department: m.dataset.department })),
  );
  // The lead, an administrator, gives each member an account carrying their inspector id.
  const memberPassword = 'member-password-1';
  await page.evaluate(
    async ([ms, password]) => {
      const csrf = (await (await fetch('/console/session', { credentials: 'same-origin' })).json()).csrf;
      for (const m of ms) {
        const answer = await fetch(`/console/api/accounts/m-${encodeURIComponent(m.inspector)}`, {
          method: 'PUT',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', 'x-suiji-csrf': csrf },
          body: JSON.stringify({ displayName: m.inspector, department: m.department, roles: ['inspection.member'], inspectorId: m.inspector, password }),
        });
        if (!answer.ok) throw new Error(`account of ${m.inspector}: ${answer.status} ${await answer.text()}`);
      }
    },
    [members, memberPassword],
  );
  await signOut();

  // Each member signs in and confirms the record for themselves.
  for (const [n, m] of members.entries()) {
    await signIn(`m-${m.inspector}`, memberPassword);
    await openFirstVisit();
    await page.waitForSelector('[data-test=confirm]', long);
    if (n === 0) {
      // What a member sees, in both languages at both widths.
      for (const lang of ['zh-CN', 'en']) {
        await page.evaluate((l) => localStorage.setItem('suiji.lang', l), lang);
        await page.reload();
        await openFirstVisit();
        await page.waitForSelector('[data-test=confirm]', long);
        for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
          await page.setViewportSize({ width, height });
          // The record form is a drawer that scrolls on its own: the view as the member reaches the button.
          await page.locator('[data-test=confirm]').scrollIntoViewIfNeeded();
          await page.screenshot({ path: `${shots}member-confirm-${lang}-${form}.png` });
        }
      }
      await page.evaluate(() => localStorage.setItem('suiji.lang', 'zh-CN'));
      await page.setViewportSize({ width: 1366, height: 860 });
      await page.reload();
      await openFirstVisit();
      await page.waitForSelector('[data-test=confirm]', long);
    }
    await saved('[data-test=confirm]');
    await page.waitForSelector(`.visit-record [data-inspector="${m.inspector}"][data-confirmed=true]`, long);
    await signOut();
  }

  await signIn(lead, leadPassword);
  await openFirstVisit();
  const checks = await page.$$eval('.visit-record [data-test=checks] tbody tr', (trs) => trs.map((tr) => tr.innerText));
  const team = await page.$$eval('.visit-record [data-test=team] tbody tr', (trs) => trs.map((tr) => tr.innerText));
  const signature = await page.textContent('[data-test=signature]');
  await closeVisit();
  await conclude(`${firstVisit} [data-test=visit-conclude]`, 'inspected');
  await page.waitForFunction(() => document.querySelector('[data-test=phase]')?.dataset.phase === 'results', null, long);
  const timeline = await page.$$eval('[data-test=timeline] .el-timeline-item', (items) => items.map((i) => i.innerText));
  const reached = await phase();

  // The problem SCJG found goes to STHJ, which takes it up and closes it.
  await openFirstVisit();
  await page.waitForSelector('[data-test=transfer-form]');
  await page.click('[data-test=transfer-to]');
  await choose('610400-STHJ', false);
  await page.fill('#transfer-note', '排污许可证过期，请依职责处理');
  await saved('[data-test=transfer-create]');
  await closeVisit();
  await page.waitForSelector('[data-test=transfers] [data-state=open]', long);
  await signOut();
  await signIn(participant, participantPassword);
  await page.click('[data-test=transfer-accept]', long);
  await page.waitForSelector('[data-test=transfers] [data-state=accepted]', long);
  await page.click('[data-test=transfer-close]');
  await page.fill('.el-message-box__input input', '已立案查处');
  await page.click('.el-message-box__btns .el-button--primary');
  await page.waitForSelector('[data-test=transfers] [data-state=closed]', long);
  const transfers = await page.$$eval('[data-test=transfers] tbody tr', (trs) => trs.map((tr) => tr.innerText));

  // Results: STHJ's clerk enters STHJ's (the code the visit suggests); SCJG's coordinator enters SCJG's, and under
  // the four-eyes rule SCJG's reviewer and head (another person) approves and publishes it, then corrects it with
  // a reason. The coordinator, who holds the reviewer's role too, sees he may not approve what he entered himself.
  const resultState = () => page.getAttribute('[data-test=result-state]', 'data-state');
  const openResult = async () => {
    await page.goto(`${url}/results`);
    await page.click('[data-test=results] a[data-result]', long);
    await page.waitForSelector('[data-test=result-state]');
  };
  await openResult();
  await saved('[data-test=result-submit]');
  await page.waitForSelector('[data-test=result-state][data-state=awaiting_review]', long);
  const sthjResult = await resultState();
  await signOut();
  await signIn(lead, leadPassword);
  await openResult();
  const states = [await resultState()];
  // A multiple select stays open after a choice.
  // (A click that lands while the list is still opening is lost: it is clicked again until the code's tag shows.)
  await page.click('[data-test=result-code-select]');
  for (let attempt = 1; ; attempt += 1) {
    await page.locator('.el-select-dropdown__item:visible', { hasText: '未按规定公示应当公示的信息' }).first().click();
    const tagged = await page.waitForSelector('[data-test=result-code-select] .el-tag', { timeout: 5000 }).then(() => true, () => false);
    if (tagged) break;
    if (attempt === 3) throw new Error('the result code was not chosen');
  }
  await page.keyboard.press('Escape');
  await page.click('[data-test=result-disposal]');
  await choose('责令整改');
  await saved('[data-test=result-submit]');
  await page.waitForSelector('[data-test=result-state][data-state=awaiting_review]', long);
  states.push(await resultState());
  const selfReview = {
    note: (await page.textContent('[data-test=result-four-eyes]')).trim(),
    disabled: await page.isDisabled('[data-test=result-approve]'),
  };
  // What the coordinator sees of the four-eyes rule, in both languages at both widths.
  {
    for (const lang of ['zh-CN', 'en']) {
      await page.evaluate((l) => localStorage.setItem('suiji.lang', l), lang);
      await page.reload();
      await page.waitForSelector('[data-test=result-four-eyes]');
      for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
        await page.setViewportSize({ width, height });
        await page.screenshot({ path: `${shots}result-four-eyes-${lang}-${form}.png`, fullPage: true });
      }
    }
    await page.evaluate(() => localStorage.setItem('suiji.lang', 'zh-CN'));
    await page.setViewportSize({ width: 1366, height: 860 });
  }
  await signOut();
  await signIn(reviewer, reviewerPassword);
  await openResult();
  await saved('[data-test=result-approve]');
  await page.waitForSelector('[data-test=result-state][data-state=approved]', long);
  states.push(await resultState());
  await saved('[data-test=result-publish]');
  await page.waitForSelector('[data-test=result-state][data-state=published]', long);
  states.push(await resultState());
  await page.fill('#result-note', '更正：补充整改期限');
  await page.click('[data-test=result-submit]');
  await page.fill('.el-message-box__input input', '原结果漏写整改期限');
  await page.click('.el-message-box__btns .el-button--primary');
  await page.waitForSelector('.el-table:has-text("原结果漏写整改期限")', long);
  const corrected = await page.$$eval('.el-table:has-text("原结果漏写整改期限") tbody tr', (trs) => trs.length);
  // The result page with its history and correction, in both languages at both widths (the history is worded by
  // the service in the page's language).
  for (const lang of ['zh-CN', 'en']) {
    if (lang === 'en') {
      await page.evaluate(() => localStorage.setItem('suiji.lang', 'en'));
      await page.reload();
    }
    await page.waitForSelector('[data-test=result-history] .el-timeline-item');
    await page.waitForSelector('.el-message-box', { state: 'hidden' });
    for (const [width, height, form] of [[1366, 860, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: `${shots}result-${lang}-${form}.png`, fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1366, height: 860 });
  return {
    sthjResult,
    states,
    selfReview,
    coordinatorConfirms,
    members: members.length,
    corrected, invited, participants, reviewed, drawn, digest, evidence, toSchedule, checks, team, signature, phase: reached, timeline, transfers };
});
