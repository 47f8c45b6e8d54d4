// The console's languages: zh-CN by default, English on request; the choice is remembered in this browser.
import { createI18n } from 'vue-i18n';
import zhCN from './zh-CN';
import en from './en';

export type Lang = 'zh-CN' | 'en';
const KEY = 'suiji.lang';

function initial(): Lang {
  const saved = localStorage.getItem(KEY);
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN';
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

export function setLang(lang: Lang): void {
  i18n.global.locale.value = lang;
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

const BEIJING = 'Asia/Shanghai';

/** A time in Beijing time, as people write it: 2026年12月7日 11:48, or 7 December 2026, 11:48. */
export function formatTime(date: Date | undefined): string {
  if (!date) return '';
  return new Intl.DateTimeFormat(i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: BEIJING,
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(date);
}

/** The label of a stable code in a group of the catalog (`kind`, `step`); the code itself when none is written. */
export function label(group: 'kind' | 'step' | 'actor' | 'check' | 'delivery', code: string): string {
  // A service acting on its own is `system:<service>`.
  if (group === 'actor' && code.startsWith('system:')) code = code.slice('system:'.length);
  const key = `${group}.${code.replace(/[. -]/g, '_')}`;
  return i18n.global.te(key) ? i18n.global.t(key) : code;
}

/** A calendar day (YYYY-MM-DD, already a Beijing date) as people write it: 2027年3月1日, or 1 March 2027. */
export function formatDay(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).format(date);
}
