// A coordinator's action on one saga or many, asking first for what it needs (a reason, a number of days).
import { Action, InspectionService, type SteerResult } from '@gen/suiji/inspection/v1/inspection_pb';
import { client } from './client';
import { i18n } from '../i18n';
import { askReason, askText } from '../util/prompt';

const t = i18n.global.t;

/** The actions a coordinator can take, in the order the page offers them. */
export const ACTIONS = [Action.PAUSE, Action.RESUME, Action.REMIND, Action.EXTEND, Action.PROCEED_WITHOUT, Action.RETRY, Action.CANCEL];

/** What the action needs asked; null when the person cancelled the question. */
async function ask(action: Action): Promise<{ reason: string; workingDays: number } | null> {
  const title = t(`actions.${Action[action]}`);
  if (action === Action.CANCEL || action === Action.PROCEED_WITHOUT) {
    const reason = await askReason(title);
    return reason === null ? null : { reason, workingDays: 0 };
  }
  if (action === Action.EXTEND) {
    const days = await askText(title, t('actions.days'), {
      initial: '3',
      check: (v) => (/^\d+$/.test(v) && +v >= 1 && +v <= 30 ? true : t('actions.daysInvalid')),
    });
    return days === null ? null : { reason: '', workingDays: +days };
  }
  return { reason: '', workingDays: 0 };
}

/** Applies `action` to `taskIds`; the per-task results, or null when the person cancelled. */
export async function steer(taskIds: string[], action: Action): Promise<SteerResult[] | null> {
  const asked = await ask(action);
  if (!asked) return null;
  const answer = await client(InspectionService).steer({ taskIds, action, ...asked });
  return answer.results;
}
