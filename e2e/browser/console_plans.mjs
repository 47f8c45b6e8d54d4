// An annual plan from draft to launched task in the console, as the people who do it would: the lead department's
// editor drafts a plan (saving it half filled shows the planning service's violations at their fields), completes
// and submits it; the joint meeting (联席会议, an account of 610400-ZFB that the administrator creates first) finds it
// on 工作台, returns it with a reason; the editor reads the reason and submits again; the joint meeting approves;
// the editor publishes it, creates the entry's task and launches it; the task's draw is witnessed, and the editor
// makes it with a witness who adds a string of their own. Then the plan changes (动态调整): the editor
// proposes an amendment with its reason, the joint meeting and the judicial department (an account of 610400-SFJ)
// each file it, the editor publishes it and version 2 is in force. Last, the administrator checks every service's
// audit chain on 审计 and reads the plan's entries there. Three people, three browser contexts. Prints what the pages
// showed as one JSON line; screenshots under target/console-screenshots/.
//
//   node e2e/browser/console_plans.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD MEETING_USER MEETING_PASSWORD
import { drive } from './chromium.mjs';

const [url, username, password, meetingUser, meetingPassword] = process.argv.slice(2);
const long = { timeout: 60000 };
const shots = new URL('../../target/console-screenshots/', import.meta.url).pathname;
const PLAN = '2027年咸阳市食品生产企业联合抽查计划';

await drive(async (editor) => {
  const signIn = async (page, user, pw, path) => {
    await page.goto(`${url}${path}`);
    await page.waitForSelector('#sign-in-username');
    await page.fill('#sign-in-username', user);
    await page.fill('#sign-in-password', pw);
    await page.click('[data-test=sign-in]');
    await page.waitForSelector('[data-test=sign-out]', long);
  };
  // Picks an option of the open select by its text (clicked again if the click landed while the list opened).
  const choose = async (page, text) => {
    for (let attempt = 1; ; attempt += 1) {
      await page.locator('.el-select-dropdown__item:visible').filter({ hasText: text }).first().click();
      const chosen = await page
        .waitForFunction((t) => [...document.querySelectorAll('.el-select__selected-item, .el-select__tags-text')].some((e) => e.textContent.includes(t)), text, { timeout: 5000 })
        .then(() => true, () => false);
      if (chosen) return;
      if (attempt === 3) throw new Error(`${text} was not chosen`);
    }
  };
  const state = (page) => page.getAttribute('[data-test=plan-state]', 'data-state');
  const confirmReason = async (page, reason) => {
    await page.waitForSelector('.el-message-box__input input');
    await page.fill('.el-message-box__input input', reason);
    await page.click('.el-message-box__btns .el-button--primary');
  };

  await signIn(editor, username, password, '/plans/new');
  // The administrator (the same person here) creates the joint meeting's account.
  const createAccount = (user, pw, displayName, department, roles) =>
    editor.evaluate(
      async ([user, pw, displayName, department, roles]) => {
        const me = await (await fetch('/console/session')).json();
        const answer = await fetch(`/console/api/accounts/${user}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-suiji-csrf': me.csrf },
          body: JSON.stringify({ displayName, department, roles, disabled: false, password: pw }),
        });
        return answer.status;
      },
      [user, pw, displayName, department, roles],
    );
  const accountCreated = await createAccount(meetingUser, meetingPassword, '赵六', '610400-ZFB', ['planning.joint-meeting']);
  const judicialCreated = await createAccount(`${meetingUser}.sfj`, meetingPassword, '孙七', '610400-SFJ', ['planning.judicial']);

  // Half filled: the service's violations show at the entry's fields.
  await editor.waitForSelector('[data-test=plan-editor]');
  await editor.fill('#plan-name', PLAN);
  await editor.fill('#entry-0-name', '食品生产企业排污情况联合抽查');
  await editor.click('[data-test=save-plan]');
  await editor.waitForSelector('.el-form-item.is-error', long);
  const errorsAt = await editor.$$eval('.el-form-item.is-error', (items) =>
    items.map((e) => e.querySelector('.el-form-item__label')?.textContent?.trim()),
  );

  // With the window: the domain's rule, a ratio or a quantity, shows at the entry's amount.
  await editor.click('.el-range-input >> nth=0');
  await editor.fill('.el-range-input >> nth=0', '2027-03-01');
  await editor.fill('.el-range-input >> nth=1', '2027-06-30');
  await editor.keyboard.press('Enter');
  await editor.keyboard.press('Escape');
  await editor.click('[data-test=save-plan]');
  await editor.waitForFunction(() => ![...document.querySelectorAll('.el-form-item.is-error .el-form-item__label')].some((l) => l.textContent.includes('实施期限')), null, long);
  await editor.waitForSelector('.el-form-item.is-error', long);
  const errorsThen = await editor.$$eval('.el-form-item.is-error', (items) =>
    items.map((e) => e.querySelector('.el-form-item__label')?.textContent?.trim()),
  );
  await editor.waitForSelector('.el-form-item.is-error .el-form-item__error');
  await editor.waitForTimeout(300);
  await editor.screenshot({ path: `${shots}plan-editor-errors-zh-CN-desktop.png`, fullPage: true });
  const errorTexts = await editor.$$eval('.el-form-item.is-error .el-form-item__error, [data-test=participant-error]', (items) => items.map((e) => e.textContent.trim()));

  // Completed: a ratio and the department's item; its draws are witnessed.
  await editor.fill('#entry-0-ratio', '2');
  await editor.click('[data-test=entry-0-witnessed]');
  await editor.click('input[aria-label="检查事项 1"]', { force: true });
  await choose(editor, 'SX-SCJG-001');
  await editor.keyboard.press('Escape');
  await editor.click('[data-test=save-plan]');
  await editor.waitForSelector('[data-test=plan-state]', long);
  const drafted = await state(editor);
  const planUrl = editor.url();
  await editor.click('[data-test=submit-plan]');
  await editor.waitForSelector('[data-test=plan-state][data-state=SUBMITTED]', long);

  // The joint meeting, in a browser of its own: the plan waits on 工作台.
  const meeting = await editor.context().browser().newContext().then((c) => c.newPage());
  await signIn(meeting, meetingUser, meetingPassword, '/work');
  await meeting.waitForSelector(`[data-test=work-table] tbody tr:has-text("${PLAN}")`, long);
  const waiting = (await meeting.textContent(`[data-test=work-table] tbody tr:has-text("${PLAN}")`)).replace(/\s+/g, ' ');
  await meeting.screenshot({ path: `${shots}work-joint-meeting-zh-CN-desktop.png`, fullPage: true });
  await meeting.click(`[data-test=work-table] tbody tr:has-text("${PLAN}") a.subject`);
  await meeting.waitForSelector('[data-test=approve-plan]', long);
  const editorButtonsForMeeting = await meeting.$$eval('[data-test=edit-plan], [data-test=submit-plan], [data-test=publish-plan]', (b) => b.length);
  await meeting.click('[data-test=return-plan]');
  await confirmReason(meeting, '请补充抽查对象的行业范围');
  await meeting.waitForSelector('[data-test=plan-state][data-state=DRAFT]', long);

  // The editor reads why, and submits again.
  await editor.goto(planUrl);
  await editor.waitForSelector('[data-test=return-reason]', long);
  const returned = (await editor.textContent('[data-test=return-reason]')).trim();
  const approveButtonsForEditor = await editor.$$eval('[data-test=approve-plan], [data-test=return-plan]', (b) => b.length);
  await editor.click('[data-test=submit-plan]');
  await editor.waitForSelector('[data-test=plan-state][data-state=SUBMITTED]', long);

  await meeting.reload();
  await meeting.click('[data-test=approve-plan]', long);
  await meeting.waitForSelector('[data-test=plan-state][data-state=APPROVED]', long);
  await meeting.screenshot({ path: `${shots}plan-approved-zh-CN-desktop.png`, fullPage: true });

  // Published, its entry becomes a task, launched.
  await editor.reload();
  await editor.click('[data-test=publish-plan]', long);
  await editor.waitForSelector('[data-test=plan-state][data-state=PUBLISHED]', long);
  await editor.click('[data-test=create-task]', long);
  await editor.waitForSelector('[data-test=launch-task]', long);
  const task = await editor.getAttribute('[data-test=tasks] [data-task]', 'data-task');
  await editor.click('[data-test=launch-task]');
  await editor.waitForSelector(`[data-task="${task}"] a`, long);
  await editor.screenshot({ path: `${shots}plan-published-zh-CN-desktop.png`, fullPage: true });
  const planId = planUrl.split('/').pop();

  // The witnessed draw: once the saga asks for it, the lead's draw operator records the witnesses present, each
  // types a string of their own, and the targets are drawn.
  // 工作台 tells the operator once every department has answered; its row leads to the draw page.
  const witnessRow = '[data-test=work-table] tbody tr:has-text("见证抽取")';
  await editor.goto(`${url}/work`);
  for (let i = 0; i < 30 && !(await editor.$(witnessRow)); i += 1) {
    await editor.waitForTimeout(1000);
    await editor.reload();
    await editor.waitForSelector('[data-test=work-table]', long);
  }
  const witnessWork = (await editor.textContent(witnessRow)).replace(/\s+/g, ' ');
  await editor.click(`${witnessRow} a.subject`);
  await editor.waitForSelector('[data-test=witness-step]', long);
  await editor.fill('#witness-0-organisation', '市纪委监委派驻纪检监察组');
  await editor.fill('#witness-0-entropy', '37-12-5-44');
  await editor.click('[data-test=witnessed-draw]');
  await editor.waitForSelector('[data-test=witness-step] .el-form-item.is-error .el-form-item__error', long);
  const witnessError = (await editor.textContent('[data-test=witness-step] .el-form-item.is-error')).replace(/\s+/g, ' ');
  await editor.fill('#witness-0-name', '王五');
  await editor.screenshot({ path: `${shots}draw-witnesses-zh-CN-desktop.png`, fullPage: true });
  await editor.click('[data-test=witnessed-draw]');
  await editor.waitForSelector('[data-test=draw-state][data-state=TARGETS_DRAWN]', long);
  await editor.waitForSelector('[data-test=target-seed]', long);
  const witnessed = (await editor.textContent('[data-test=target-seed]')).replace(/\s+/g, ' ');
  await editor.screenshot({ path: `${shots}draw-witnessed-zh-CN-desktop.png`, fullPage: true });
  await editor.goto(planUrl);
  await editor.waitForSelector('[data-test=amend-plan]', long);

  // An amendment: proposed with its reason and a new ratio, filed by both bodies, published by the editor.
  await editor.click('[data-test=amend-plan]', long);
  await editor.waitForSelector('[data-test=amend-reason]', long);
  await editor.click('[data-test=save-plan]');
  await editor.waitForSelector('.el-form-item.is-error', long);
  const amendErrors = await editor.$$eval('.el-form-item.is-error', (items) => items.map((e) => e.querySelector('.el-form-item__label')?.textContent?.trim()));
  await editor.fill('#plan-reason', '上半年投诉集中，提高抽查比例');
  await editor.fill('#entry-0-ratio', '1.5');
  await editor.click('[data-test=save-plan]');
  await editor.waitForSelector('[data-test=versions] [data-version="2"]', long);
  const proposed = (await editor.textContent('[data-test=versions]')).replace(/\s+/g, ' ');
  const amendButtonsForEditor = await editor.$$eval('[data-test=file-amendment]', (b) => b.length);
  await meeting.goto(planUrl);
  await meeting.click('[data-test=file-amendment]', long);
  await meeting.waitForFunction(() => !document.querySelector('[data-test=file-amendment]'), null, long);
  const judicial = await editor.context().browser().newContext().then((c) => c.newPage());
  await signIn(judicial, `${meetingUser}.sfj`, meetingPassword, `${planUrl.slice(url.length)}`);
  await judicial.click('[data-test=file-amendment]', long);
  await judicial.waitForFunction(() => !document.querySelector('[data-test=file-amendment]'), null, long);
  await editor.reload();
  await editor.click('[data-test=publish-amendment]', long);
  await editor.waitForFunction(() => document.querySelector('[data-test=versions] tr:has(.el-tag--success) [data-version]')?.getAttribute('data-version') === '2', null, long);
  const versionInForce = await editor.getAttribute('[data-test=versions] tr:has(.el-tag--success) [data-version]', 'data-version');
  const ratioInForce = await editor.textContent('[data-test=entries] tbody tr');
  await editor.waitForFunction(() => ![...document.querySelectorAll('.el-loading-mask')].some((m) => m.checkVisibility()), null, long);
  await editor.waitForTimeout(500);
  await editor.screenshot({ path: `${shots}plan-amended-zh-CN-desktop.png`, fullPage: true });
  await editor.click('[data-test=versions] [data-version="1"]');
  await editor.waitForSelector('[data-test=other-version]', long);
  const olderShown = (await editor.textContent('[data-test=other-version]')).trim();

  // 审计: every chain holds; the planning service's entries about the plan name who did what.
  await editor.goto(`${url}/audit?service=planning&entity=plan&entityId=${encodeURIComponent(planId)}`);
  await editor.click('[data-test=verify-all]', long);
  await editor.waitForFunction(() => document.querySelectorAll('[data-intact]').length + document.querySelectorAll('[data-broken]').length === 6, null, long);
  const intact = await editor.$$eval('[data-intact]', (e) => e.map((x) => x.getAttribute('data-intact')));
  await editor.waitForSelector('[data-test=audit-entries] [data-seq]', long);
  const audited = await editor.$$eval('[data-test=audit-entries] .el-table__body tr', (rows) => rows.map((r) => r.textContent.replace(/\s+/g, ' ')));
  await editor.waitForTimeout(500);
  await editor.screenshot({ path: `${shots}audit-plan-zh-CN-desktop.png`, fullPage: true });
  return {
    accountCreated,
    judicialCreated,
    errorsAt,
    errorsThen,
    errorTexts,
    drafted,
    waiting,
    editorButtonsForMeeting,
    returned,
    approveButtonsForEditor,
    task,
    planId,
    witnessWork,
    witnessError,
    witnessed,
    amendErrors,
    proposed,
    amendButtonsForEditor,
    versionInForce,
    ratioInForce,
    olderShown,
    intact,
    audited,
  };
});
