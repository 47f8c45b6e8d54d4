// A plan's parts in the page's language: its state's colour, an entry's ratio or quantity, its scope and its
// participants, as the plan's page and its editor show them.
import { PlanState, TaskType, type PlanEntry } from '@gen/suiji/planning/v1/planning_pb';
import { InspectionMethod } from '@gen/suiji/catalog/v1/catalog_pb';
import { OperatingStatus, RiskLevel } from '@gen/suiji/directories/v1/directories_pb';
import { TargetKind } from '@gen/suiji/types/v1/types_pb';
import { i18n } from '../../i18n';

export const stateType = (s: PlanState) =>
  s === PlanState.PUBLISHED ? 'success' : s === PlanState.APPROVED ? 'primary' : s === PlanState.SUBMITTED ? 'warning' : 'info';

/** A ratio in basis points as a percentage: 250 → "2.5%". */
export const percent = (bp: number) => `${Number((bp / 100).toFixed(2))}%`;

export const RISK_LEVELS = [RiskLevel.HIGH, RiskLevel.MEDIUM_HIGH, RiskLevel.MEDIUM, RiskLevel.LOW];
export const METHODS = [InspectionMethod.ON_SITE, InspectionMethod.WRITTEN, InspectionMethod.ONLINE_MONITORING, InspectionMethod.THIRD_PARTY];
export const KINDS = [TargetKind.ENTERPRISE, TargetKind.INDIVIDUAL_BUSINESS, TargetKind.FARMERS_COOPERATIVE, TargetKind.PUBLIC_INSTITUTION, TargetKind.SOCIAL_ORGANISATION];
export const STATUSES = [OperatingStatus.OPERATING, OperatingStatus.CLOSED, OperatingStatus.LIQUIDATING, OperatingStatus.REVOKED];

/** How much of the scope an entry draws: a ratio (with its ratios by risk) or a quantity. */
export function amount(e: PlanEntry): string {
  const t = i18n.global.t;
  if (e.quantity) return t('plans.quantityOf', { n: e.quantity });
  const byRisk = e.riskRatios.map((r) => `${t(`plans.risk_${RiskLevel[r.level]}`)} ${percent(r.basisPoints)}`).join('、');
  return byRisk ? `${percent(e.ratioBasisPoints)}（${byRisk}）` : percent(e.ratioBasisPoints);
}

/** An entry's scope over the directories, or "undirected". */
export function scope(e: PlanEntry): string {
  const t = i18n.global.t;
  if (e.type === TaskType.UNDIRECTED) return t('plans.type_UNDIRECTED');
  const s = e.scope;
  if (!s) return '';
  return [
    s.kinds.map((k) => t(`catalog.kind_${TargetKind[k]}`)).join('、'),
    s.regionCodes.length ? `${t('plans.regions')} ${s.regionCodes.join('、')}` : '',
    s.industryPrefixes.length ? `${t('plans.industries')} ${s.industryPrefixes.join('、')}` : '',
    s.statuses.map((x) => t(`plans.status_${OperatingStatus[x]}`)).join('、'),
  ]
    .filter(Boolean)
    .join('；');
}
