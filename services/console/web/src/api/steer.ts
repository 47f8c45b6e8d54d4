// A coordinator's action on one saga or many, asking first for what it needs (a reason, a number of days).
import { ElMessageBox } from 'element-plus';
import { Action, InspectionService, type SteerResult } from '@gen/suiji/inspection/v1/inspection_pb';
import { client } from './client';
import { i18n } from '../i18n';

const t = i18n.global.t;

/** The actions a coordinator can take, in the order the page offers them. */
export const ACTIONS = [Action.PAUSE, Action.RESUME, Action.REMIND, Action.EXTEND, Action.PROCEED_WITHOUT, Action.RETRY, Action.CANCEL];

/** What the action needs asked; null when the person cancelled the question. */
async function ask(action: Action): Promise<{ reason: string; workingDays: number } | null> {
  try {
    if (action === Action.CANCEL || action === Action.PROCEED_WITHOUT) {
      const { value } = await ElMessageBox.prompt(t('actions.reason'), t(`actions.${Action[action]}`), {
        confirmButtonText: t('actions.confirm'),
        cancelButtonText: t('actions.cancel'),
        inputValidator: (v: string) => (v && v.trim() ? true : t('actions.reasonRequired')),
      });
      return { reason: value.trim(), workingDays: 0 };
    }
    if (action === Action.EXTEND) {
      const { value } = await ElMessageBox.prompt(t('actions.days'), t('actions.EXTEND'), {
        confirmButtonText: t('actions.confirm'),
        cancelButtonText: t('actions.cancel'),
        inputValue: '3',
        inputValidator: (v: string) => (/^\d+$/.test(v) && +v >= 1 && +v <= 30 ? true : t('actions.daysInvalid')),
      });
      return { reason: '', workingDays: +value };
    }
  } catch {
    return null;
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
