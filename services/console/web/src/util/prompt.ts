// Asks for a reason (or another line of text) before a step that needs one; null when the person cancels.
import { ElMessageBox } from 'element-plus';
import { i18n } from '../i18n';

export async function askText(title: string, label: string, options: { initial?: string; check?: (v: string) => string | true } = {}): Promise<string | null> {
  const t = i18n.global.t;
  try {
    const { value } = await ElMessageBox.prompt(label, title, {
      confirmButtonText: t('actions.confirm'),
      cancelButtonText: t('actions.cancel'),
      inputValue: options.initial,
      inputValidator: options.check ?? ((v: string) => (v && v.trim() ? true : t('actions.reasonRequired'))),
    });
    return value.trim();
  } catch {
    return null;
  }
}

/** A reason, required. */
export const askReason = (title: string) => askText(title, i18n.global.t('actions.reason'));
