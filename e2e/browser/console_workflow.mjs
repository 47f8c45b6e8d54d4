// Drives a joint inspection through the coordinators' workflow console in headless Chromium, as two departments'
// coordinators would: the participant confirms the invitation; the lead waits for the draw, approves the drawn
// targets, schedules each visit on its last day and concludes it with the target not found; then prints what the
// page showed at each step as one JSON line for the Rust test to check against the inspection service.
//
//   node e2e/browser/console_workflow.mjs http://127.0.0.1:PORT/console PARTICIPANT_TOKEN LEAD_TOKEN TASK
import { drive } from './chromium.mjs';

const [url, participant, lead, task] = process.argv.slice(2);
const long = { timeout: 60000 };
await drive(async (page) => {
  const signIn = async (token) => {
    await page.goto(url);
    await page.waitForSelector('#login:not(.hidden)');
    await page.fill('#token', token);
    await page.click('#sign-in');
    await page.waitForSelector(`#sagas tr[data-task="${task}"]`);
    await page.click(`#sagas tr[data-task="${task}"] a`);
    await page.waitForSelector('#detail:not(.hidden)');
  };
  const signOut = async () => {
    await page.click('#logout');
    await page.waitForSelector('#login:not(.hidden)');
  };
  const phase = () => page.getAttribute('#detail-phase', 'data-phase');

  await signIn(participant);
  await page.waitForSelector('#invitation:not(.hidden)', long);
  const invited = await phase();
  await page.click('#accept');
  await page.waitForSelector('#invitation.hidden', { state: 'attached' });
  const participants = await page.$$eval('#participants tr', (trs) => trs.map((tr) => tr.innerText));
  await signOut();

  await signIn(lead);
  await page.waitForSelector('#review:not(.hidden)', long);
  const reviewed = await page.textContent('#review-targets');
  await page.click('#approve');
  await page.waitForSelector('.visit-schedule', long);
  const toSchedule = await page.$$eval('#visits tr', (trs) => trs.length);
  // One visit at a time, the first row offering the step; each step's answer takes its button away.
  const each = async (button, before) => {
    for (let n = await page.$$eval(button, (b) => b.length); n > 0; n -= 1) {
      if (before) await before();
      await page.click(button);
      await page.waitForFunction(([sel, left]) => document.querySelectorAll(sel).length < left, [button, n], long);
    }
  };
  await each('.visit-schedule');
  const scheduled = await page.$$eval('#visits tr', (trs) => trs.map((tr) => tr.innerText));
  await each('.visit-conclude', () => page.selectOption('.visit-outcome', 'not_found'));
  await page.waitForFunction(() => document.querySelector('#detail-phase').dataset.phase === 'results', null, long);
  const timeline = await page.$$eval('#timeline tr', (trs) => trs.map((tr) => tr.innerText));
  return { invited, participants, reviewed, toSchedule, scheduled, phase: await phase(), timeline };
});
