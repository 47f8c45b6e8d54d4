// An item's content as rows of label and text, in the page's language: shown on the item's page and compared
// version against version.
import { ItemCategory, InspectionMethod, type ItemContent } from '@gen/suiji/catalog/v1/catalog_pb';
import { TargetKind } from '@gen/suiji/types/v1/types_pb';
import { i18n } from '../../i18n';

export interface Row {
  key: string;
  label: string;
  text: string;
}

/** A ratio in basis points as a percentage: 300 → "3.00". */
export const percent = (bp: number) => (bp / 100).toFixed(2);

export function rows(content: ItemContent | undefined, departmentName: (code: string) => string): Row[] {
  const t = i18n.global.t;
  const c = content;
  const row = (key: string, text: string): Row => ({ key, label: t(`catalog.${key}`), text });
  return [
    row('name', c?.name ?? ''),
    row('department', c ? `${departmentName(c.departmentCode)}（${c.departmentCode}）` : ''),
    row('category', t(`catalog.category_${ItemCategory[c?.category ?? 0]}`)),
    row('subItems', (c?.subItems ?? []).map((s) => `${s.code} ${s.name}`).join('\n')),
    row('legalBasis', (c?.legalBasis ?? []).join('\n')),
    row('targetKinds', (c?.targetKinds ?? []).map((k) => t(`catalog.kind_${TargetKind[k]}`)).join('、')),
    row('ratioCap', c?.ratioCapBasisPoints ? percent(c.ratioCapBasisPoints) : ''),
    row('frequency', c?.frequencyPerYear ? String(c.frequencyPerYear) : ''),
    row('methods', (c?.methods ?? []).map((m) => t(`catalog.method_${InspectionMethod[m]}`)).join('、')),
    row('qualifications', (c?.inspectorQualifications ?? []).join('、')),
    row('expert', c?.requiresExpert ? t('common.yes') : t('common.no')),
    row('checklist', (c?.checklist ?? []).map((p) => `${p.code}. ${p.description}${p.basis ? `（${p.basis}）` : ''}`).join('\n')),
    row('remarks', c?.remarks ?? ''),
  ];
}
