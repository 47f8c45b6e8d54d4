// The services' field violations, shown at the field they name: a form asks for the violations of one field or of
// anything under it (`content.entries[0]` takes `content.entries[0].task_name`, said as "task_name: …").
import type { Ref } from 'vue';

export function fieldErrors(errors: Ref<Record<string, string>>) {
  /** `exact`: only the field's own violations (a form that shows its parts' at the parts); `bare`: its parts'
   *  reasons without their paths (a row that stands for the whole part). */
  return (path: string, mode: 'all' | 'exact' | 'bare' = 'all') =>
    Object.entries(errors.value)
      .filter(([f]) => f === path || (mode !== 'exact' && (f.startsWith(`${path}.`) || f.startsWith(`${path}[`))))
      .map(([f, r]) => (f === path || mode === 'bare' ? r : `${f.slice(path.length).replace(/^\./, '')}: ${r}`))
      .join('；');
}
