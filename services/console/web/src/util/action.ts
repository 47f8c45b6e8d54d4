// A step a person takes on a page: one at a time per key, its button busy meanwhile, the service's refusal shown in
// a message box and a success message when it went through.
import { ref } from 'vue';
import { ElMessage } from 'element-plus';
import { showError } from '../api/client';

export function useAction() {
  /** The key of the step under way, '' when none. */
  const busy = ref('');
  /** Runs `work` as `key`; whether it went through. A refusal `atField` shows at the form's fields (it says whether
   *  it did) is not shown again in a box. */
  async function run(key: string, work: () => Promise<unknown>, done?: string, atField?: (error: unknown) => boolean): Promise<boolean> {
    busy.value = key;
    try {
      await work();
      if (done) ElMessage.success(done);
      return true;
    } catch (e) {
      if (!atField?.(e)) showError(e);
      return false;
    } finally {
      busy.value = '';
    }
  }
  return { busy, run };
}
