// Drives the coordinators' workflow console in headless Chromium: signs in with a token, reads the calendar's
// warning of a missing holiday notice, finds the task in the list, opens it (phase, participants, visits,
// timeline), pauses and resumes it with the page's buttons, filters by "needs attention", and runs a bulk action
// that the saga's state refuses, then prints what it saw as one JSON line for the Rust test to check against the
// inspection service.
//
//   node e2e/browser/console_page.mjs http://127.0.0.1:PORT/console TOKEN TASK
import { drive } from './chromium.mjs';

const [url, token, task] = process.argv.slice(2);
await drive(async (page) => {
  const row = `#sagas tr[data-task="${task}"]`;
  const rows = (table) => page.$$eval(`#${table} tr`, (trs) => trs.length);
  await page.goto(url);
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', 'not a token');
  await page.click('#sign-in');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent !== '');
  const refused = await page.textContent('#login-error');
  await page.fill('#token', token);
  await page.click('#sign-in');
  await page.waitForSelector(row);
  const signedInAs = await page.textContent('#who');
  await page.waitForSelector('#calendar-warning:not(.hidden)');
  const calendarWarning = await page.textContent('#calendar-warning');
  const listed = await page.getAttribute(`${row} td[data-phase]`, 'data-phase');

  await page.click(`${row} a`);
  await page.waitForSelector('#detail:not(.hidden)');
  const phase = await page.getAttribute('#detail-phase', 'data-phase');
  const timeline = await rows('timeline');
  const visits = await rows('visits');
  const participants = await page.$$eval('#participants tr', (trs) => trs.map((tr) => tr.innerText));

  await page.click('#actions button[data-action="pause"]');
  await page.waitForSelector('#detail-paused:not(.hidden)');
  const afterPause = await rows('timeline');
  await page.click('#actions button[data-action="resume"]');
  await page.waitForSelector('#detail-paused.hidden', { state: 'attached' });
  const afterResume = await rows('timeline');
  const lastEvent = await page.$$eval('#timeline tr', (trs) => trs[trs.length - 1].innerText);

  await page.check('#needs-attention');
  await page.click('#search');
  await page.waitForFunction((sel) => !document.querySelector(sel), row);
  const needingAttention = await rows('sagas');
  await page.uncheck('#needs-attention');
  await page.click('#search');
  await page.waitForSelector(row);
  await page.check(`${row} input[type=checkbox]`);
  await page.selectOption('#bulk-action', 'retry');
  await page.click('#bulk-run');
  await page.waitForSelector(`#bulk-results li[data-task="${task}"]`);
  const bulk = await page.$$eval('#bulk-results li', (lis) => lis.map((li) => ({ ok: li.className === 'ok', text: li.innerText })));

  await page.click('#logout');
  await page.waitForSelector('#login:not(.hidden)');
  await page.reload();
  await page.waitForSelector('#login:not(.hidden)');
  return {
    refused, signedInAs, calendarWarning, listed, phase, timeline, visits, participants, afterPause, afterResume, lastEvent,
    needingAttention, bulk, signedOut: true,
  };
});
