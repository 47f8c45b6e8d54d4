// Drives a joint inspection through the coordinators' workflow console in headless Chromium, as two departments'
// coordinators would: the participant confirms the invitation; the lead waits for the draw, approves the drawn
// targets and schedules every visit; on the first visit each department records its findings on its own check
// points and the lead attaches a photo as evidence, the lead notes the target's refusal to sign, each department's members confirm the record form and the
// lead concludes it as inspected; the other visits are concluded with the target not found; the lead transfers its
// problem to the participant, which accepts and closes it. Prints what the page showed as one JSON line for the
// Rust test to check against the inspection service.
//
//   node e2e/browser/console_workflow.mjs http://127.0.0.1:PORT/console PARTICIPANT_TOKEN LEAD_TOKEN TASK
import { drive } from './chromium.mjs';

const [url, participant, lead, task] = process.argv.slice(2);
// The evidence file's bytes (the test checks the SHA-256 the page computed from them).
const photo = 'suiji evidence photo 1';
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
  // Clicks `button` and waits for the console's answer to `path`, which must succeed.
  const step = async (button, path) => {
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(path) && r.request().method() === 'POST', long),
      page.click(button),
    ]);
    if (!answer.ok()) throw new Error(`${path}: ${answer.status()} ${await answer.text()}`);
    await page.waitForLoadState('networkidle');
  };
  const openFirstVisit = async () => {
    await page.click('#visits tr:first-child .visit-open');
    await page.waitForSelector('#visit:not(.hidden)');
  };
  // Each row offering `button` but the first visit's, one at a time (each step's answer takes its button away).
  const others = async (button, before) => {
    const sel = `#visits tr:not(:first-child) ${button}`;
    for (let n = await page.$$eval(sel, (b) => b.length); n > 0; n -= 1) {
      if (before) await before(sel);
      await page.click(sel);
      await page.waitForFunction(([s, left]) => document.querySelectorAll(s).length < left, [sel, n], long);
    }
  };

  await signIn(participant);
  await page.waitForSelector('#invitation:not(.hidden)', long);
  const invited = await phase();
  await step('#accept', `/api/sagas/${encodeURIComponent(task)}/answer`);
  await page.waitForSelector('#invitation.hidden', { state: 'attached' });
  const participants = await page.$$eval('#participants tr', (trs) => trs.map((tr) => tr.innerText));
  await signOut();

  await signIn(lead);
  await page.waitForSelector('#review:not(.hidden)', long);
  await page.waitForSelector('#review-strata tr');
  const reviewed = await page.textContent('#review-targets');
  const drawn = await page.$$eval('#review-strata tr', (trs) => trs.map((tr) => tr.innerText));
  const digest = await page.textContent('#review-digest');
  await step('#approve', `/api/sagas/${encodeURIComponent(task)}/approve`);
  await page.waitForSelector('.visit-schedule', long);
  const toSchedule = await page.$$eval('#visits tr', (trs) => trs.length);
  await step('#visits tr:first-child .visit-schedule', '/api/visits/schedule');
  await others('.visit-schedule');
  await openFirstVisit();
  for (const row of await page.$$('#checks tr:has(.finding-result)')) {
    await (await row.$('.finding-result')).selectOption('problem');
    await (await row.$('.finding-note')).fill('未按规定公示年度报告');
  }
  await step('#record-findings', '/api/visits/findings');
  // A photo of the problem: its hash is taken in the browser, the file stays in SCJG's storage.
  await page.setInputFiles('#evidence-file', { name: 'photo-1.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(photo) });
  await page.fill('#evidence-ref', 's3://scjg-evidence/visit-1/photo-1.jpg');
  await page.fill('#evidence-description', '现场照片：年度报告未公示');
  await step('#evidence-attach', '/api/visits/evidence');
  await page.waitForSelector('#evidence tr');
  const evidence = await page.$$eval('#evidence tr', (trs) => trs.map((tr) => tr.dataset.sha256));
  await others('.visit-conclude', (sel) => page.selectOption(sel.replace('.visit-conclude', '.visit-outcome'), 'not_found'));
  await signOut();

  await signIn(participant);
  await openFirstVisit();
  for (const row of await page.$$('#checks tr:has(.finding-result)')) {
    await (await row.$('.finding-result')).selectOption('compliant');
  }
  await step('#record-findings', '/api/visits/findings');
  await signOut();

  await signIn(lead);
  await openFirstVisit();
  await page.waitForSelector('#signing:not(.hidden)');
  await page.fill('#refusal-note', '负责人拒绝签字，执法人员二人在场记录');
  await step('#sign', '/api/visits/sign');
  await page.waitForSelector('#confirm:not(.hidden)');
  await step('#confirm', '/api/visits/confirm');
  await signOut();

  await signIn(participant);
  await openFirstVisit();
  await page.waitForSelector('#confirm:not(.hidden)');
  await step('#confirm', '/api/visits/confirm');
  await signOut();

  await signIn(lead);
  await openFirstVisit();
  const checks = await page.$$eval('#checks tr', (trs) => trs.map((tr) => tr.innerText));
  const team = await page.$$eval('#team tr', (trs) => trs.map((tr) => tr.innerText));
  const signature = await page.textContent('#visit-signature');
  await page.selectOption('#visits tr:first-child .visit-outcome', 'inspected');
  await step('#visits tr:first-child .visit-conclude', '/api/visits/conclude');
  await page.waitForFunction(() => document.querySelector('#detail-phase').dataset.phase === 'results', null, long);
  const timeline = await page.$$eval('#timeline tr', (trs) => trs.map((tr) => tr.innerText));
  const reached = await phase();

  // The problem SCJG found goes to STHJ, which takes it up and closes it.
  await openFirstVisit();
  await page.waitForSelector('#transfer-form:not(.hidden)');
  await page.fill('#transfer-to', '610400-STHJ');
  await page.fill('#transfer-note-new', '排污许可证过期，请依职责处理');
  await step('#transfer-create', '/api/transfers/create');
  await page.waitForSelector('#transfers tr[data-state="open"]');
  await signOut();
  await signIn(participant);
  await step('.transfer-accept', '/api/transfers/answer');
  await page.waitForSelector('#transfers tr[data-state="accepted"]');
  await page.fill('#transfer-note', '已立案查处');
  await step('.transfer-close', '/api/transfers/answer');
  await page.waitForSelector('#transfers tr[data-state="closed"]');
  const transfers = await page.$$eval('#transfers tr', (trs) => trs.map((tr) => tr.innerText));
  return { invited, participants, reviewed, drawn, digest, evidence, toSchedule, checks, team, signature, phase: reached, timeline, transfers };
});
