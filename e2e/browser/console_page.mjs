// Drives the console in headless Chromium as the lead's coordinator: a wrong password is refused at its field; the
// sign-in with the printed password opens the list, with the calendar's notice of a missing holiday notice; the
// task's row and its page (phase, participants, visits, timeline); pause and resume with the page's buttons, the pause
// pushed to a second page on the task;
// "needs attention" in the URL; a bulk retry that the saga's state refuses; signing out, after which a reload asks
// to sign in again. Prints what it saw as one JSON line for the Rust test to check against the inspection service.
//
//   node e2e/browser/console_page.mjs http://127.0.0.1:PORT/console USERNAME PASSWORD TASK
import { drive } from './chromium.mjs';

const [url, username, password, task] = process.argv.slice(2);
const long = { timeout: 60000 };
await drive(async (page) => {
  const row = `[data-test=sagas] a[data-task="${task}"]`;
  const timelineItems = () => page.$$eval('[data-test=timeline] .el-timeline-item', (items) => items.length);
  await page.goto(url);
  await page.waitForSelector('#sign-in-username');
  await page.fill('#sign-in-username', username);
  await page.fill('#sign-in-password', 'not the password');
  await page.click('[data-test=sign-in]');
  await page.waitForSelector('.el-form-item__error');
  const refused = await page.textContent('.el-form-item__error');
  await page.fill('#sign-in-password', password);
  await page.click('[data-test=sign-in]');
  // The coordinator lands on 工作台: what waits on the department, with its deadline in working days.
  await page.waitForSelector('[data-test=work-table] tbody tr [data-test=deadline]', long);
  const work = await page.$$eval('[data-test=work-table] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
  await page.click('.nav-link[href$="/sagas"]');
  await page.waitForSelector(row, long);
  const signedInAs = await page.textContent('[data-test=who]');
  await page.waitForSelector('.calendar-notice');
  const calendarWarning = await page.textContent('.calendar-notice');
  const listed = await page.$eval(`[data-test=sagas] tr:has(a[data-task="${task}"]) [data-phase]`, (e) => e.dataset.phase);

  await page.click(row);
  await page.waitForSelector('[data-test=timeline] .el-timeline-item');
  await page.waitForSelector('[data-test=visits] [data-visit]', long);
  const phase = await page.getAttribute('[data-test=phase]', 'data-phase');
  const timeline = await timelineItems();
  const visits = await page.$$eval('[data-test=visits] [data-visit]', (v) => v.length);
  const participants = await page.$$eval('[data-test=participants] tbody tr', (trs) => trs.map((tr) => tr.innerText));

  // A second page on the same task is told of the change: it shows the pause without being reloaded.
  const watching = await page.context().browser().newContext();
  const watcher = await watching.newPage();
  await watcher.goto(`${url}/sign-in`);
  await watcher.fill('#sign-in-username', username);
  await watcher.fill('#sign-in-password', password);
  await watcher.click('[data-test=sign-in]');
  await watcher.waitForSelector('[data-test=sign-out]', long);
  await watcher.goto(page.url());
  await watcher.waitForSelector('[data-test=timeline] .el-timeline-item', long);
  await watcher.waitForTimeout(1500);
  await page.click('[data-test=actions] [data-action=pause]');
  await page.waitForSelector('[data-test=paused]');
  const pushed = await watcher.waitForSelector('[data-test=paused]', { timeout: 20000 }).then(() => true, () => false);
  await watching.close();
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=timeline] .el-timeline-item').length > n, timeline);
  const afterPause = await timelineItems();
  await page.click('[data-test=actions] [data-action=resume]');
  await page.waitForSelector('[data-test=paused]', { state: 'detached' });
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=timeline] .el-timeline-item').length > n, afterPause);
  const afterResume = await timelineItems();
  // The timeline shows the newest first.
  const lastEvent = await page.$eval('[data-test=timeline] .el-timeline-item', (e) => e.innerText);

  await page.goto(`${url}/sagas?attention=1`);
  await page.waitForSelector('[data-test=sagas] .el-table__empty-text');
  const needingAttention = await page.$$eval('[data-test=sagas] a[data-task]', (a) => a.length);
  await page.goto(`${url}/sagas`);
  await page.waitForSelector(row);
  await page.click(`[data-test=sagas] tr:has(a[data-task="${task}"]) .el-checkbox`);
  await page.click('[data-test=bulk-action]');
  await page.click('.el-select-dropdown__item:has-text("重试")');
  await page.click('[data-test=bulk-run]');
  await page.waitForSelector(`[data-test=bulk-results] li[data-task="${task}"]`);
  const bulk = await page.$$eval('[data-test=bulk-results] li', (lis) => lis.map((li) => ({ ok: li.className === 'ok', text: li.innerText })));

  // The task's draw record: verified against the stored snapshot; downloaded, and the file verified — as it is,
  // then with one digit of the seed changed, which the check names.
  await page.goto(`${url}/sagas/${encodeURIComponent(task)}`);
  await page.click('[data-test=draw-link]', long);
  await page.waitForSelector('[data-test=target-seed]', long);
  await page.click('[data-test=verify-draw]');
  await page.waitForSelector('[data-test=verdict]', long);
  const verifiedStored = await page.getAttribute('[data-test=verdict]', 'data-match');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-draw]')]);
  const fs = await import('node:fs');
  const file = `${await download.path()}.json`;
  fs.copyFileSync(await download.path(), file);
  const verifyFile = async (path) => {
    const verdicts = await page.$$eval('[data-test=verdict]', (v) => v.map((e) => e.textContent).join());
    await page.setInputFiles('[data-test=record-file]', path);
    await page.waitForFunction((before) => {
      const v = document.querySelector('[data-test=verdict]');
      return v && v.textContent !== before;
    }, verdicts, long);
    return { match: await page.getAttribute('[data-test=verdict]', 'data-match'), title: (await page.textContent('[data-test=verdict] .el-alert__title')).trim() };
  };
  const verifiedFile = await verifyFile(file);
  const record = fs.readFileSync(file, 'utf8');
  const tampered = record.replace(/("seed"\s*:\s*")([0-9a-f])/, (_, head, digit) => head + (digit === '0' ? '1' : '0'));
  const tamperedFile = `${file}.tampered.json`;
  fs.writeFileSync(tamperedFile, tampered);
  const verifiedTampered = await verifyFile(tamperedFile);
  const drawShot = new URL('../../target/console-screenshots/draw-mismatch-zh-CN-desktop.png', import.meta.url).pathname;
  await page.screenshot({ path: drawShot, fullPage: true });

  await page.click('[data-test=sign-out]');
  await page.waitForSelector('#sign-in-username');
  await page.goto(`${url}/sagas`);
  await page.waitForSelector('#sign-in-username');
  return {
    refused, work, signedInAs, calendarWarning, listed, phase, timeline, visits, participants, pushed, afterPause, afterResume, lastEvent,
    needingAttention, bulk, verifiedStored, verifiedFile, recordChanged: record !== tampered, verifiedTampered, signedOut: true,
  };
});
