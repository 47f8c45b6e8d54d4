// A list read page by page from a service: the first page on load, the next one on "load more".
import { ref, type Ref } from 'vue';
import { messageOf } from '../api/client';

export function usePaged<T>(fetchPage: (pageToken: string) => Promise<{ items: T[]; next: string }>) {
  const items = ref([]) as Ref<T[]>;
  const next = ref('');
  const loading = ref(false);
  const error = ref('');
  /** Reads the first page again, or with `more` the next one after those shown. */
  async function load(more = false) {
    loading.value = true;
    error.value = '';
    try {
      const page = await fetchPage(more ? next.value : '');
      items.value = more ? [...items.value, ...page.items] : page.items;
      next.value = page.next;
    } catch (e) {
      error.value = messageOf(e);
    } finally {
      loading.value = false;
    }
  }
  return { items, next, loading, error, load };
}
